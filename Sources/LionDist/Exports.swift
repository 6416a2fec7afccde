import Basics
import Checkpoint
import DataParallel
import LionEngine
import Model
import Sharding
import Training

// The library's public surface: this module's own types (the facade: `World`,
// `DistributedOptimizer`, `OptimizerOptions`, `TensorLayout`, ...) plus these names for the
// implementation modules' types that a user needs, so that `import LionDist` is all a user
// writes and nothing else of those modules leaks into their namespace.

/// Lion (one state buffer: momentum m) or AdamW (two: m, v); `.lion` or `.adamw`.
public typealias OptimizerKind = LionEngine.OptimizerKind

/// How optimizer state is stored: `.fp32`, or `.bf16` (half the bytes; math stays fp32, every
/// store rounds to nearest even).
public typealias StateDType = LionEngine.StateDType

/// The shape of the learning-rate schedule after the warm-up: `.constant`, `.cosine` (to
/// `minLR` at the schedule's last step) or `.rsqrt` (`lr * sqrt(warmup / step)`, at least `minLR`).
public typealias ScheduleKind = LionEngine.ScheduleKind

/// How gradients are combined across ranks: `.allreduce` (MPI_Allreduce of the whole gradient)
/// or `.reduceScatter` (through node-shared memory, each rank receiving only its shard;
/// hierarchical across nodes).
public typealias CommKind = Sharding.CommKind

/// One named tensor of a model: a view of the flat parameter buffer with a `name`, an
/// `offset`, a row-major `shape`, whether weight decay applies (`decays`), its `count` of
/// elements and its `range` in the buffer. Build them with ``TensorLayout``.
public typealias ParameterTensor = Model.ParameterTensor

/// Where a ``Workload``'s backward writes gradients: `grads[tensor]` is a ``TensorView`` of the
/// tensor's gradient this step (with sharded gradients, a staging slot of the tensor's bucket).
public typealias GradientSink = Basics.GradientSink

/// A PyTorch-style parameter group: some tensors, by name, with their own learning-rate
/// multiplier (`lrScale`), `weightDecay` and `betas`.
/// `TensorGroup(tensors: ["wte"], lrScale: 0.5, weightDecay: 0)`.
public typealias TensorGroup = DataParallel.TensorGroup

/// A model and the data it trains on, as ``Trainer`` sees them. Implement:
/// - `name` (a short name, the `model` key of the metrics), `parameterCount` and `tensors`
///   (from a ``TensorLayout``);
/// - `stepsPerPeriod` and `periods`: steps per epoch and epochs (an evaluation closes each);
/// - `initialize(_:seed:)`: write the initial parameters (`params[tensor]`, a ``TensorView``),
///   the same on every rank;
/// - `forwardBackward(step:params:grads:segmentDone:)`: run this rank's slice of global step
///   `step`'s batch, reading `params[tensor]`, OVERWRITE the gradient with that of the slice's
///   MEAN loss, writing each tensor's gradient into `grads[tensor]` (a ``GradientSink``: with
///   sharded gradients a staging slot of the tensor's bucket, so address every tensor through it), call
///   `segmentDone(i)` as each segment (default: one per tensor) is final, last first, and
///   return the slice's ``LossSums``;
/// - `evaluate(params:)`: this rank's share of the evaluation set, as ``LossSums`` (the
///   trainer adds them over the ranks).
///
/// Everything else has a default: `description`, `signature` (a custom ``ModelSignature``),
/// `segments`, `totalSteps`, `periodName` ("epoch"), `itemsPerSample` (1), `throughputUnit`
/// ("samples"), `trainingFLOPsPerSample` (nil), the progress and period lines, their metrics
/// events (`epoch` with `train_loss`, `eval_loss`, `eval_accuracy`) and the summary fields.
public typealias Workload = Training.Workload

/// Summed losses over `count` items and, for a classifier, how many were `correct`;
/// `loss` is the mean and `accuracy` the fraction correct.
/// `LossSums(lossSum: 12.5, count: 50, correct: 41)`.
public typealias LossSums = Training.LossSums

/// One period (epoch) of a run as a ``Workload`` sees it: its 1-based `period`, the optimizer
/// `step`, the mean `trainLoss`, the `evaluation` that closed it and its `seconds`.
public typealias PeriodRecord = Training.PeriodRecord

/// The run's `periods` and `totalSteps`, for a ``Workload``'s period line.
public typealias RunShape = Training.RunShape

/// A JSON value with ordered object keys (`.number`, `.int`, `.string`, `.bool`, `.array`,
/// `.object`): the fields of a ``Workload``'s metrics events.
public typealias JSON = Training.JSON

/// The ready-made data-parallel training loop for any ``Workload``: create it with
/// `Trainer(workload:config:world:)` and call `train()`. Every rank runs the same loop;
/// rank 0 prints a banner, progress lines, one line per epoch and a summary with the memory of
/// every rank, and writes the `metricsPath` JSON Lines and the checkpoints.
public typealias Trainer = Training.Trainer

/// A training run's settings: `globalBatch`, `optimizer`, `schedule`, `warmupSteps`, `minLR`,
/// `clipNorm`, `seed`, `threads`, `comm`, `bucketMB`, `overlap`, `metricsPath`, `maxSteps`,
/// `saveParamsPath`, `logInterval` (seconds between progress lines) and `checkpoint`. Start
/// from `TrainConfig(globalBatch:optimizer:schedule:)`.
public typealias TrainConfig = Training.TrainConfig

/// Where a ``Trainer`` writes checkpoints (`directory`, nil: none), how often (`every` steps;
/// always at the end), how many it keeps (`keep`), and whether it resumes (`resume`: the
/// newest in `directory`; `resumeFrom`: a file).
public typealias CheckpointSettings = Training.CheckpointSettings

/// What a run reports at its end, the same on every rank: `steps`, `skippedSteps`, the last
/// `evaluation` (``LossSums``), `finalTrainLoss`, `seconds`, `samplesPerSecond`, per-phase
/// `timings` and every rank's memory (`ranks`).
public typealias RunSummary = Training.RunSummary

/// Which model a checkpoint holds. A ``Workload`` of your own gets
/// `.custom(parameterCount:shape:)`: its parameter count and up to 64 integers in 1...2^24
/// of your choosing that tell its shapes apart (default: the number of tensors).
public typealias ModelSignature = Checkpoint.ModelSignature

/// One tensor's elements as a view of its `shape` over storage the optimizer or a gradient
/// slot owns: `view[i]`, `view[row, column]`, `fill(_:)`, `copy(from:)`, `elements`, `row(_:)`.
public typealias TensorView = Model.TensorView

/// A model's parameters, read tensor by tensor: `params[tensor]` is a ``TensorView``.
public typealias ParameterValues = Model.ParameterValues
