import Basics
import Collectives
import LionEngine

/// `--comm allreduce`: MPI_Allreduce of the whole gradient (every rank holds the full sum), the
/// shard scaled by 1/W, MPI_Allgather of the parameter shards. With overlap, each bucket's
/// MPI_Iallreduce starts as backward finishes it and later buckets' callbacks drive progress
/// (MPI_Testall); `reduceScatterMean` waits for what is left.
public final class AllreduceCombiner: GradientCombiner {
    public let layout: ShardLayout
    public let buckets: BucketPlan
    private let comm: Communicator
    private let overlap: Bool
    private let p: AlignedBuffer<Float>
    private let g: AlignedBuffer<Float>
    private var pending = PendingRequests()
    private var started = 0
    private var handoffs = HandoffClock()

    public init(layout: ShardLayout, comm: Communicator, buckets: BucketPlan, overlap: Bool) {
        self.layout = layout
        self.comm = comm
        self.buckets = buckets
        self.overlap = overlap && buckets.ranges.count > 1
        p = AlignedBuffer<Float>(count: layout.paddedCount)
        g = AlignedBuffer<Float>(count: layout.paddedCount)
    }

    public var params: UnsafeMutablePointer<Float> { p.pointer }
    public var gradients: GradientSink { .flat(g.pointer) }
    public var flatGradients: UnsafeMutablePointer<Float>? { g.pointer }
    public var shardGradient: UnsafeMutablePointer<Float> { g.pointer + layout.range(of: comm.rank).lowerBound }
    public var description: String {
        overlap ? "allreduce (MPI_Iallreduce per bucket, \(buckets.ranges.count) buckets)" : "allreduce (MPI_Allreduce)"
    }

    public func bucketReady(_ index: Int) throws {
        guard overlap else { return }
        guard index == started else { throw BucketOrder.outOfOrder(index, expected: started, rank: comm.rank) }
        try handoffs.time {
            let r = buckets.ranges[index]
            try comm.iallreduceSum(g.pointer + r.lowerBound, count: r.count, pending: &pending)
            started += 1
            _ = try pending.test()
        }
    }

    public func reduceScatterMean(pool: ThreadPool) throws -> Double {
        if started > 0 {
            // A workload that reported only some segments: start the rest now.
            for r in buckets.ranges[started...] { try comm.iallreduceSum(g.pointer + r.lowerBound, count: r.count, pending: &pending) }
            try pending.wait()
        } else {
            try comm.allreduceSum(g.pointer, count: layout.paddedCount)
        }
        started = 0
        let own = layout.range(of: comm.rank)
        return scaleAndSumSquares(g.pointer + own.lowerBound, count: own.count, scale: 1 / Float(layout.worldSize), pool: pool)
    }

    public func allgatherParams(pool: ThreadPool) throws {
        try comm.allgatherInPlace(p.pointer, blockCount: layout.shardCount)
    }

    public var sharesParams: Bool { false }
    public var heldBytes: (parameters: Int, gradients: Int) { Self.heldBytes(layout: layout) }
    /// A private full-size P and G (what `heldBytes` reports and the planner predicts).
    public static func heldBytes(layout: ShardLayout) -> (parameters: Int, gradients: Int) {
        (layout.paddedCount * 4, layout.paddedCount * 4)
    }
    public func paramsWritten() throws {}

    public func takeHandoffs() -> Handoffs? { handoffs.take() }
}
