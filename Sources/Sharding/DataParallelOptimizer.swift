import Basics
import LionEngine

/// What the trainer drives, whatever crosses the wire: the sharded optimizer (`--comm
/// allreduce|reduce-scatter`: gradients combined, each rank updates its shard, parameters
/// gathered) and sign-vote Lion (`--comm sign-vote`: each rank votes with the sign of its own
/// Lion update, the owners count the votes, every rank applies the voted update). One step:
/// backward writes `gradients` (calling `bucketReady` per finished bucket), then `step`.
public protocol DataParallelOptimizer: AnyObject {
    var layout: ShardLayout { get }
    /// The flat parameter buffer (at least `layout.paddedCount` floats; the model reads P).
    var params: UnsafeMutablePointer<Float> { get }
    /// Where backward writes this rank's local gradient, tensor by tensor.
    var gradients: any GradientSink { get }
    /// The full-size flat gradient buffer when there is one (nil with sharded gradients).
    var flatGradients: UnsafeMutablePointer<Float>? { get }
    /// The buckets backward fills, in the order it finishes them.
    var buckets: BucketPlan { get }
    /// True when `params` is one copy per node shared by its ranks (written by one rank).
    var sharesParams: Bool { get }
    /// A short description for the banner.
    var description: String { get }
    /// Bytes of P and of gradient buffers this rank holds (see `GradientCombiner.heldBytes`).
    var heldBytes: (parameters: Int, gradients: Int) { get }
    /// Bytes of optimizer state this rank holds.
    var stateBytes: Int { get }
    /// The optimizer state, for checkpoints.
    var state: OptimizerStateSlice { get }

    /// Backward has finished bucket `index` (bucket order; every bucket every step, or never).
    func bucketReady(_ index: Int) throws
    /// Every rank has written `params` outside a step (initialization, a checkpoint load). Collective.
    func paramsWritten() throws
    /// One step from this rank's local mean gradient in `gradients` (consumed); `riders` (loss
    /// sums, counts) are summed over the ranks in the step's scalar allreduce. Collective.
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
