import Basics
import Checkpoint
import MemoryPlanning
import Model
import RunSchema

/// A model and the data it trains on, as the trainer sees them. The trainer never knows which
/// model it runs: it asks the workload to run forward and backward on this rank's slice of a
/// global step's batch, hands the gradient to the sharded optimizer, and asks the workload to
/// evaluate at the end of each period (an epoch, or a number of steps: the workload says).
///
/// Parameters are typed views of the step's flat buffer, tensor by tensor (`params[tensor]`, a
/// `TensorView` of the tensor's shape). Gradients go where a `GradientSink` says, tensor by
/// tensor (`grads[tensor]`; with sharded gradients, a staging slot of the tensor's bucket,
/// reused once the bucket is handed off).
public protocol Workload: AnyObject {
    /// A short name: the `model` key of `--metrics`.
    var name: String { get }
    /// The banner's model line (its shape in words).
    var description: String { get }
    var parameterCount: Int { get }
    /// The model's shape as checkpoints record it (a resume must match it).
    var signature: ModelSignature { get }
    /// Named views of the flat buffer; `decays` selects the weight-decay group.
    var tensors: [ParameterTensor] { get }
    /// Contiguous ascending ranges tiling [0, parameterCount); backward finishes them last
    /// first (gradient buckets follow them).
    var segments: [Range<Int>] { get }
    /// Steps per period (an evaluation closes each), the number of periods in the run, and its
    /// steps (the last period may be shorter); `--max-steps` may cut the run further.
    var stepsPerPeriod: Int { get }
    var periods: Int { get }
    var totalSteps: Int { get }
    /// What a period is called in the banner ("epoch", "eval interval").
    var periodName: String { get }
    /// What the loss averages over in one sample (1 image; `blockSize` characters), and the
    /// unit of throughput ("samples", "tokens").
    var itemsPerSample: Int { get }
    var throughputUnit: String { get }
    /// Forward-and-backward FLOPs per sample, nil when not worth counting (for MFU).
    var trainingFLOPsPerSample: Double? { get }
    /// The matrix-product rate this rank gets now in the workload's compute dtype: MFU's yardstick.
    func matmulRate() -> MatmulRate

    /// Bytes this rank holds for activations and workspace (scratch, the batch) and for its
    /// copy of the data set (for the memory table).
    var heldBytes: WorkloadBytes { get }
    /// What the planner counts for this workload: the end-of-run memory table's "predicted"
    /// activations and dataset (default `heldBytes`; say more when buffers grow during the run).
    var plannedBytes: WorkloadBytes { get }
    /// `--init-from`: the parameters of a safetensors file (PyTorch's names), checked against
    /// this model; every rank reads the file, so a refusal is the same line everywhere.
    func initialWeights(fromSafetensors path: String) throws -> [Float]

    /// Writes the initial parameters (`params[tensor].copy(from:)`, `fill`, `[i] =`), identical
    /// on every rank for the same seed.
    func initialize(_ params: ParameterValues, seed: UInt64)
    /// Loads this rank's slice of global step `step`'s batch (a pure function of the seed, the
    /// step and the rank's rows), runs forward and backward on it, OVERWRITES the gradient with
    /// that of the slice's mean loss, and calls `segmentDone(i)` as each segment's gradient is
    /// final, last segment first: a segment's gradient must not be written after its
    /// `segmentDone`. Returns the slice's summed loss and the items it sums over.
    func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                         segmentDone: (Int) throws -> Void) throws -> LossSums
    /// This rank's share of the evaluation set (sums; the trainer adds them over the ranks).
    /// An error thrown here or in `forwardBackward` on one rank ends the job (see `Trainer.run()`).
    func evaluate(params: ParameterValues) throws -> LossSums
    /// Where a progress line says the run stands after `step` (1-based) steps, e.g.
    /// "epoch 1/10  step 12/234" or "step 12/2000".
    func progressPosition(step: Int, totalSteps: Int) -> String
    /// The line rank 0 prints after each period's evaluation, and its `--metrics` event.
    func periodLine(_ record: PeriodRecord, of run: RunShape) -> String
    func periodEvent(_ record: PeriodRecord) -> (event: String, fields: [(String, JSON)])
    /// The end of the "done:" line ("test accuracy 89.58%") and the summary's evaluation keys
    /// (`test_accuracy`, `test_loss`; `val_loss`, `bits_per_char`, ...) for the last evaluation.
    func summaryText(_ final: LossSums) -> String
    func summaryFields(_ final: LossSums, samplesPerSecond: Double) -> [(String, JSON)]
}

/// Summed losses over `count` items (images, characters) and, where the model classifies,
/// how many of them it got right.
public struct LossSums: Sendable, Equatable {
    public var lossSum: Double
    public var count: Double
    public var correct: Double?

    public init(lossSum: Double, count: Double, correct: Double? = nil) {
        self.lossSum = lossSum
        self.count = count
        self.correct = correct
    }

    /// Mean loss per item.
    public var loss: Double { count > 0 ? lossSum / count : .nan }
    public var accuracy: Double? { correct.map { count > 0 ? $0 / count : .nan } }
}

/// One period (epoch, evaluation interval) of a run: its mean training loss and the evaluation
/// that closed it.
public struct PeriodRecord: Sendable {
    /// 1-based.
    public let period: Int
    /// Optimizer steps done when the evaluation ran.
    public let step: Int
    public let trainLoss: Double
    public let evaluation: LossSums
    public let seconds: Double

    public var evalLoss: Double { evaluation.loss }
}

/// What a period line needs to say where it stands.
public struct RunShape: Sendable {
    public let periods: Int
    public let totalSteps: Int
}
