import Basics
import LionEngine

/// What the step's owner (`DataParallelStep`) drives, whatever crosses the wire: the sharded
/// optimizer (`--comm allreduce|reduce-scatter`: gradients combined, each rank updates its
/// shard, parameters gathered) and sign-vote Lion (`--comm sign-vote`: each rank votes with the
/// sign of its own Lion update, the owners count the votes, every rank applies the voted
/// update). One step: backward writes `buffers.gradients` (calling `bucketReady` per finished
/// bucket), then `step`.
public protocol DataParallelOptimizer: AnyObject {
    /// The parameters and the gradient storage, and how they move (a combiner's, or its own).
    var buffers: any GradientBuffers { get }
    /// Bytes of optimizer state this rank holds.
    var stateBytes: Int { get }
    /// The optimizer state, for checkpoints.
    var state: OptimizerStateSlice { get }
    /// One step from this rank's local mean gradient in `buffers.gradients` (consumed); `riders`
    /// (loss sums, counts, the stop flag) are summed over the ranks in the step's one scalar
    /// allreduce. Collective.
    func step(lr: Float, riders: inout [Double]) throws -> StepOutcome
}

/// The optimizer state a rank holds and which elements of the flat buffer it covers.
public struct OptimizerStateSlice {
    /// Holds the state buffers and the applied-step count: for this rank's shard of the flat
    /// buffer (sharded), or for every element (`perRank`).
    public let optimizer: LocalOptimizer
    /// True when each rank holds its own state for every element (sign-vote: each rank's
    /// momentum of its own gradients): a checkpoint keeps all W copies and resumes only at W.
    public let perRank: Bool

    public init(optimizer: LocalOptimizer, perRank: Bool) {
        self.optimizer = optimizer
        self.perRank = perRank
    }
}
