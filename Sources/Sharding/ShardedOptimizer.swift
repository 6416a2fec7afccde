import Collectives
import LionEngine

/// The sharded optimizer step, one place, top to bottom:
/// combine gradients -> average + norm on this rank's shard -> agree on the norm ->
/// update the shard -> gather parameter shards.
///
/// Each rank holds optimizer state for its own shard only: `layout.shardCount` elements
/// (Lion: one buffer; AdamW: two).
public final class ShardedOptimizer {
    public let layout: ShardLayout
    public let rank: Int
    public let optimizer: ShardOptimizer
    public let clipNorm: Float
    private let comm: Communicator
    private let pool: ThreadPool

    public init(layout: ShardLayout, config: OptimizerConfig, clipNorm: Float,
                comm: Communicator, pool: ThreadPool) {
        precondition(layout.worldSize == comm.size)
        self.layout = layout
        self.rank = comm.rank
        self.comm = comm
        self.pool = pool
        self.clipNorm = clipNorm
        self.optimizer = ShardOptimizer(config: config, count: layout.shardCount, pool: pool)
    }

    /// Bytes of optimizer state this rank holds.
    public var stateBytes: Int { optimizer.stateBytes }

    /// One step. `params` and `grads` are flat buffers of `layout.paddedCount` floats; `grads`
    /// holds this rank's local mean gradient and is consumed (overwritten) by the combine.
    /// `riders` (loss sums, counts) are summed over all ranks in the same small allreduce as
    /// the gradient norm, so metrics cost no extra collective.
    public func step(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>,
                     lr: Float, riders: inout [Double]) throws -> StepOutcome {
        var t = StepTimings()
        let lo = layout.range(of: rank).lowerBound
        let shard = layout.shardCount

        // 1. Combine: every rank gets the sum of all ranks' gradients.
        var clock = MPIRuntime.time()
        try comm.allreduceSum(grads, count: layout.paddedCount)
        t.combine = lap(&clock)

        // 2. Average our shard and measure it in the same pass; one scalar allreduce gives
        //    the global norm, and a non-finite norm tells every rank to skip.
        let localSquares = scaleAndSumSquares(grads + lo, count: shard, scale: 1 / Float(layout.worldSize), pool: pool)
        var scalars = [localSquares] + riders
        try comm.allreduceSum(&scalars)
        riders = Array(scalars.dropFirst())
        let norm = scalars[0].squareRoot()
        guard norm.isFinite else {
            t.update = lap(&clock)
            return StepOutcome(applied: false, gradNorm: norm, timings: t)
        }

        // 3. Update this rank's shard of the parameters and optimizer state.
        optimizer.update(params: params + lo, grads: grads + lo, lr: lr,
                         gradScale: clipScale(globalNorm: norm, maxNorm: clipNorm))
        t.update = lap(&clock)

        // 4. Gather: every rank rebuilds the full parameter vector.
        try comm.allgatherInPlace(params, blockCount: shard)
        t.gather = lap(&clock)
        return StepOutcome(applied: true, gradNorm: norm, timings: t)
    }
}

@inline(__always)
private func lap(_ clock: inout Double) -> Double {
    let now = MPIRuntime.time()
    defer { clock = now }
    return now - clock
}
