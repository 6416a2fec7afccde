import Basics
import Checkpoint
import DeterministicRandom
import Layers
import DataParallel
import LionEngine
import MemoryPlanning
import Model
import RunSchema
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
/// ("samples"), `trainingFLOPsPerSample` (nil), `heldBytes` (none: the memory table shows 0
/// for activations and data) and `plannedBytes` (`heldBytes`: the end-of-run table's
/// "predicted" column for your model), the progress and period lines, their metrics events
/// (`epoch` with `train_loss`, `eval_loss`, `eval_accuracy`) and the summary fields.
public typealias Workload = Training.Workload

/// What a ``Workload`` holds per rank besides parameters, gradients and optimizer state:
/// `activations` (and workspace) and its share of the `dataset`, in bytes.
public typealias WorkloadBytes = MemoryPlanning.WorkloadBytes

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
public typealias JSON = RunSchema.JSON

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
public typealias CheckpointSettings = Checkpoint.CheckpointSettings

/// What a run reports at its end, the same on every rank: `steps`, `skippedSteps`, the last
/// `evaluation` (``LossSums``), `finalTrainLoss`, `seconds`, `samplesPerSecond`, per-phase
/// `timings` and every rank's memory (`ranks`).
public typealias RunSummary = Training.RunSummary

/// One rank's memory at the end of a run, as a ``RunSummary``'s `ranks` holds it: the buffers it
/// holds by category (`held`) and what the kernel measured (peak and end Pss, peak RSS).
public typealias RankMemory = MemoryPlanning.RankMemory

/// Bytes by category: `parameters`, `gradients`, `optimizerState`, `activations`, `dataset`,
/// `runtime`, and their `total`.
public typealias MemoryBreakdown = MemoryPlanning.MemoryBreakdown

/// Seconds a step spent in each phase of the gradient exchange and the update.
public typealias StepTimings = Sharding.StepTimings

/// Which model a checkpoint holds, as data: a family code, the integers of its shape and its
/// parameter count (a resume must match all three). A ``Workload`` of your own gets
/// `.custom(parameterCount:shape:)`: its parameter count and up to 64 integers in 1...2^24
/// of your choosing that tell its shapes apart (default: the number of tensors).
public typealias ModelSignature = Checkpoint.ModelSignature

/// One tensor's elements as a view of its `shape` over storage the optimizer or a gradient
/// slot owns: `view[i]`, `view[row, column]`, `fill(_:)`, `copy(from:)`, `elements`, `row(_:)`.
public typealias TensorView = Model.TensorView

/// A model's parameters, read tensor by tensor: `params[tensor]` is a ``TensorView``.
public typealias ParameterValues = Model.ParameterValues

// Layers users compose into a model of their own (module Layers), and the data helpers.

/// One step of a model: `declare` its tensors, `outputShape(input:)`, `allocate`, `initialize`,
/// `forward(_:params:)` and `backward(_:params:grads:inputGradient:)` over ``TensorView``s.
/// The built-in ones: ``Linear``, ``Embedding``, ``LayerNorm``, ``ReLU``, ``GELU``,
/// ``CausalSelfAttention``; compose them in a ``Sequential``.
public typealias Layer = Layers.Layer

/// A model as a list of layers ending in logits, softmax cross-entropy on top:
/// `Sequential(input: [2], [Linear(2, 64), ReLU(), Linear(64, 3)])`. It lays out the
/// `tensors` ("0.weight", ...), `initialize(_:seed:)`s them, and
/// `forwardBackward(input:labels:params:grads:segmentDone:)` WRITES every gradient (backward
/// runs the layers reversed) and hands each tensor's segment off as soon as it is final;
/// `evaluate(input:labels:params:)` runs forward only. `dtype: .bf16` multiplies in bf16.
public typealias Sequential = Layers.Sequential

/// x W^T + b over the last dimension: `Linear(inputs, outputs, bias: true)` (the GPT's products).
public typealias Linear = Layers.Linear
/// Token plus position embedding of token ids: `Embedding(vocabulary:width:positions:)`; the first layer.
public typealias Embedding = Layers.Embedding
/// LayerNorm with a gain over the last dimension: `LayerNorm(width)`.
public typealias LayerNorm = Layers.LayerNorm
/// max(x, 0).
public typealias ReLU = Layers.ReLU
/// GELU, tanh approximation.
public typealias GELU = Layers.GELU
/// Causal multi-head self-attention with its input and output projections, over (T, width)
/// samples: `CausalSelfAttention(width:heads:)` (the GPT's fused flash attention).
public typealias CausalSelfAttention = Layers.CausalSelfAttention
/// Softmax cross-entropy over the last dimension, one label per row; its backward is the
/// gradient of the mean.
public typealias SoftmaxCrossEntropy = Layers.SoftmaxCrossEntropy
/// A batch's summed loss, rows (`count`) and `correct` rows; `loss`, `accuracy`.
public typealias BatchLoss = Layers.BatchLoss
/// A layer's storage for an activation at up to `maxBatch` samples: `view(batch:)`.
public typealias ActivationTensor = Layers.ActivationTensor
/// Where a layer adds its tensors (`add(_:shape:decays:)`).
public typealias LayerParameters = Layers.LayerParameters
/// What the layers of one model share at one batch size (the products, the attention tiles).
public typealias ActivationPlan = Layers.ActivationPlan
/// A model that cannot be built as asked (or a sampler set up wrong): its `description` says why.
public typealias LayerError = Layers.LayerError
/// The precision of the linear layers' products: `.fp32` (OpenBLAS) or `.bf16` (oneDNN, on
/// CPUs with native bf16).
public typealias ComputeDType = Model.ComputeDType

/// This rank's sample indices for each global step: `BatchSampler(count:globalBatch:rank:ranks:seed:)`,
/// `indices(step:)`, `stepsPerEpoch`; shuffled per epoch from the seed, the same global batch
/// at any number of ranks, each rank a contiguous slice.
public typealias BatchSampler = Layers.BatchSampler
/// This rank's share of an evaluation set: `EvaluationSplit.share(of:rank:ranks:)`.
public typealias EvaluationSplit = Layers.EvaluationSplit
/// SplitMix64: the same random numbers on every rank and platform. `SplitMix64(seed:)`,
/// `next()`, `nextUnit()` (in [0, 1)), `next(below:)`.
public typealias SplitMix64 = DeterministicRandom.SplitMix64
