import Basics
import Collectives
import LionEngine

/// The sharded optimizer step, one place, top to bottom:
/// combine gradients -> average + norm on this rank's shard -> agree on the norm ->
/// update the shard -> gather parameter shards.
///
/// Each rank holds optimizer state for its own shard only: `layout.shardCount` elements
/// (Lion: one buffer; AdamW: two).
public final class ShardedOptimizer: DataParallelOptimizer {
    public let layout: ShardLayout
    public let rank: Int
    public let optimizer: LocalOptimizer
    public let clipNorm: Float
    /// Owns the flat P and G buffers and moves them between ranks (`--comm`).
    public let combiner: GradientCombiner
    private let comm: Communicator
    private let pool: ThreadPool

    /// `groups` tile the padded flat buffer [0, layout.paddedCount) (nil: one group with
    /// `config.weightDecay`); each rank keeps the part that falls in its shard. `tensors` are
    /// the model's tensors' ranges in the flat buffer: cautious Lion (`config.isCautious`)
    /// takes each one's scale mean over all its elements (nil: the real elements as one tensor).
    public init(layout: ShardLayout, config: OptimizerConfig, clipNorm: Float,
                comm: Communicator, pool: ThreadPool, combiner: GradientCombiner, groups: [ParameterGroup]? = nil,
                tensors: [Range<Int>]? = nil) {
        precondition(layout.worldSize == comm.size && combiner.layout == layout)
        self.layout = layout
        self.rank = comm.rank
        self.comm = comm
        self.pool = pool
        self.clipNorm = clipNorm
        self.combiner = combiner
        let own = layout.range(of: comm.rank)
        self.optimizer = LocalOptimizer(config: config, count: layout.shardCount, pool: pool,
                                        groups: groups.map { ParameterGroup.slice(ParameterGroup.normalized($0, count: layout.paddedCount), to: own) },
                                        tensors: TensorPieces(tensors: tensors ?? [0..<layout.count], window: own))
    }

    /// Bytes of optimizer state this rank holds (with cautious Lion's 3 bits per element).
    public var stateBytes: Int { optimizer.stateBytes + optimizer.scratchBytes }
    /// The combiner's P and G.
    public var buffers: any GradientBuffers { combiner }
    public var state: OptimizerStateSlice { OptimizerStateSlice(optimizer: optimizer, perRank: false) }

    /// One step, after backward has written this rank's local mean gradient into the
    /// combiner's `gradients` (the combiner may already have reduced some of its buckets); the
    /// combine consumes it. `riders` (loss sums, counts) are summed over all ranks in the same
    /// small allreduce as the gradient norm, so metrics cost no extra collective.
    public func step(lr: Float, riders: inout [Double]) throws -> StepOutcome {
        var t = StepTimings()
        let lo = layout.range(of: rank).lowerBound
        // 1. Combine: this rank's shard of the summed gradient, averaged (1/W) and measured
        //    (sum of squares) in the same pass.
        var clock = MPIRuntime.time()
        let handoffs = combiner.takeHandoffs()
        let commStart = min(clock, handoffs?.firstStart ?? clock)
        let localSquares = try combiner.reduceScatterMean(pool: pool)
        t.handoff = handoffs?.seconds ?? 0
        t.combine = lap(&clock) + t.handoff
        // One rank communicates nothing: its combine is a local pass, its gather a no-op.
        let span = comm.size > 1 ? clock - commStart : 0

        // 2. One scalar allreduce gives the global norm (and sums the riders); a non-finite
        //    norm tells every rank to skip.
        var scalars = [localSquares] + riders
        try comm.allreduceSum(&scalars)
        riders = Array(scalars.dropFirst())
        let norm = scalars[0].squareRoot()
        guard norm.isFinite else {
            t.update = lap(&clock)
            t.commTotal = span
            t.commExposed = comm.size > 1 ? t.combine : 0
            return StepOutcome(applied: false, gradNorm: norm, timings: t)
        }

        // 3. Update this rank's shard of the parameters and optimizer state. Cautious Lion:
        //    the sign pass counts each tensor's aligned elements in this shard; one small
        //    allreduce sums them (the counts need the clip scale, and the pass writes m, so it
        //    waits for the norm's verdict); the apply pass scales by each tensor's mean.
        let gradScale = clipScale(globalNorm: norm, maxNorm: clipNorm)
        var masked: Double? = nil
        if optimizer.config.isCautious, let tensors = optimizer.tensors {
            var counts = optimizer.cautiousSign(grads: combiner.shardGradient, gradScale: gradScale).map(Double.init)
            try comm.allreduceSum(&counts)
            let aligned = counts.map { Int($0) }
            let real = tensors.sizes.reduce(0, +)
            masked = real > 0 ? 1 - Double(aligned.reduce(0, +)) / Double(real) : 0
            optimizer.cautiousApply(params: combiner.params + lo, lr: lr, aligned: aligned)
        } else {
            optimizer.update(params: combiner.params + lo, grads: combiner.shardGradient, lr: lr, gradScale: gradScale)
        }
        t.update = lap(&clock)

        // 4. Gather: every rank rebuilds the full parameter vector.
        try combiner.allgatherParams(pool: pool)
        t.gather = lap(&clock)
        t.commTotal = comm.size > 1 ? span + t.gather : 0
        t.commExposed = comm.size > 1 ? t.combine + t.gather : 0
        return StepOutcome(applied: true, gradNorm: norm, timings: t, maskedFraction: masked)
    }
}

@inline(__always)
private func lap(_ clock: inout Double) -> Double {
    let now = MPIRuntime.time()
    defer { clock = now }
    return now - clock
}
