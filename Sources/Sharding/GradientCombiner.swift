import LionEngine
import Basics

/// How gradients are combined across ranks (`--comm`).
public enum CommKind: String, CaseIterable, Sendable {
    /// MPI_Allreduce of the whole gradient, then MPI_Allgather of the parameter shards.
    case allreduce
    /// Each rank receives only its shard's summed gradient: through node-shared memory within
    /// a node, hierarchically (MPI between nodes) across nodes. See `SharedMemoryCombiner`.
    case reduceScatter = "reduce-scatter"
}

/// What is sharded (`--shard`): with `params` the fp32 parameters live ONCE per node, in a
/// node-shared window every rank of the node reads for forward and backward, and each rank
/// writes its own shard in place after the update (needs `--comm reduce-scatter`);
/// `gradientsAndParams` also shards the gradient (ZeRO-2): no rank holds a full-size
/// gradient, only a few bucket-sized staging slots and its reduced shard (`GradientSlots`);
/// `stateOnly` is ZeRO-1 as before: every rank holds a full private parameter copy and only the
/// optimizer state is sharded.
public enum ShardScope: String, CaseIterable, Sendable {
    case gradientsAndParams = "gradients-and-params"
    case params
    case stateOnly = "state-only"
}

/// Owns the flat parameter buffer (`layout.paddedCount` floats; the model reads P) and the
/// gradient storage backward writes into (`gradients`): what the step's owner and the model see
/// of any exchange, the combiners' and sign-vote's alike.
public protocol GradientBuffers: AnyObject {
    var layout: ShardLayout { get }
    var params: UnsafeMutablePointer<Float> { get }
    /// Where backward writes this rank's local gradient, tensor by tensor.
    var gradients: GradientSink { get }
    /// The full-size flat gradient buffer (`layout.paddedCount` floats) when there is one; nil
    /// with sharded gradients.
    var flatGradients: UnsafeMutablePointer<Float>? { get }
    /// The buckets backward fills, in the order it finishes them (`BucketPlan`).
    var buckets: BucketPlan { get }
    /// True when `params` is one copy per node shared by its ranks (`--shard params`): the
    /// combiner writes it only from the owner of each shard, ordered by node barriers.
    var sharesParams: Bool { get }
    /// Bytes of P and of gradient buffers (G, staging) this rank holds; node-shared buffers
    /// count this rank's share (1/k of what the node's k ranks all read).
    var heldBytes: (parameters: Int, gradients: Int) { get }
    /// A short description for the banner, e.g. "reduce-scatter (shared memory, 1 node)".
    var description: String { get }

    /// Backward has written its last gradient into bucket `index`; a combiner that overlaps may
    /// start reducing it. Called in bucket order, every bucket, every step, or never in a step.
    func bucketReady(_ index: Int) throws
    /// Every rank has finished writing `params` outside a step (initialization, a checkpoint
    /// load: every rank writes the same values); orders those writes before any read. Collective.
    func paramsWritten() throws
}

/// Moves the sharded optimizer's buffers between ranks. One step, in order: `bucketReady` as
/// backward finishes each bucket (every bucket, or, without sharded gradients, none),
/// `reduceScatterMean`, the optimizer updates this rank's shard of `params` from
/// `shardGradient`, `allgatherParams`.
public protocol GradientCombiner: GradientBuffers {
    /// After `reduceScatterMean`: this rank's shard of the mean gradient (`layout.shardCount` floats).
    var shardGradient: UnsafeMutablePointer<Float> { get }
    /// Finishes the reduction. Afterwards `shardGradient` holds this rank's shard of the MEAN
    /// gradient (sum / W); returns that shard's sum of squares (Double). Its caller's next
    /// collective (the gradient-norm allreduce) must come before backward writes gradients again.
    func reduceScatterMean(pool: ThreadPool) throws -> Double
    /// Every rank has updated `params[layout.range(of: rank)]`; rebuilds the full `params`.
    func allgatherParams(pool: ThreadPool) throws
    /// This step's combine work inside `bucketReady` (when the first started, how long all
    /// took), nil when none ran before `reduceScatterMean`; resets for the next step.
    func takeHandoffs() -> Handoffs?
}

/// Buckets of gradient elements in the order backward produces them: the model's layers from
/// last to first, grouped until a bucket holds at least `bucketElements`. The first bucket also
/// covers the padding after the last layer, so the buckets tile [0, paddedCount) (descending).
public struct BucketPlan: Sendable, Equatable {
    public let ranges: [Range<Int>]
    /// closesBucket[layer] = the bucket finished when backward finishes that layer, or nil.
    public let closesBucket: [Int?]

    /// `layers` are the [lo, hi) ranges of each layer in the flat buffer, first layer first,
    /// contiguous and ascending from 0.
    public init(layers: [Range<Int>], paddedCount: Int, bucketElements: Int) {
        var ranges: [Range<Int>] = []
        var closes = [Int?](repeating: nil, count: layers.count)
        var hi = paddedCount
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let lo = layers[l].lowerBound
            if hi - lo >= bucketElements || l == 0 {
                closes[l] = ranges.count
                ranges.append(lo..<hi)
                hi = lo
            }
        }
        self.ranges = ranges
        self.closesBucket = closes
    }

    /// One bucket: everything (no overlap).
    public static func single(paddedCount: Int) -> BucketPlan {
        BucketPlan(layers: [0..<paddedCount], paddedCount: paddedCount, bucketElements: paddedCount)
    }
}
