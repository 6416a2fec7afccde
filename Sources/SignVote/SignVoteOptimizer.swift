import Basics
import Collectives
import LionEngine
import Sharding

/// `--comm sign-vote`: sign-vote Lion (Distributed Lion, Liu et al. 2024, arXiv 2404.00438).
/// Every rank keeps the FULL momentum of its own local gradients and a private parameter copy;
/// no gradient crosses the wire. One step, top to bottom:
///
/// 1. sum of squares of the local gradient; one scalar allreduce gives the reported norm
///    (sqrt of the mean over ranks of the local squared norms), the clip scale, the skip
///    decision for a non-finite gradient on any rank, and sums the riders;
/// 2. `SignVoteKernel.pack`: c = b1*m + (1-b1)*g, m = b2*m + (1-b2)*g, one bit per element;
/// 3. `SignVoteWire`: each owner gets its shard's bits from every rank (MPI_Alltoall), counts
///    them (majority; a tie gives 0), and every rank gets every shard's 2-bit result
///    (MPI_Allgather);
/// 4. `SignVoteKernel.apply`: p = p*(1 - lr*wd) - lr*vote on every rank, per parameter group
///    (the trainer's weight-decay groups); the padding is never updated.
///
/// Every rank applies the same update to the same parameters, so they stay identical.
/// Wire: 3(W-1)/W bits per parameter per rank per step (`SignVoteLayout.wireBitsPerParameter`).
/// Memory: 4P of momentum per rank (sharded Lion: 4P/W), a full P and G (as `--comm allreduce`).
public final class SignVoteOptimizer: DataParallelOptimizer, GradientBuffers {
    public let layout: ShardLayout
    public let votes: SignVoteLayout
    public let rank: Int
    public let clipNorm: Float
    /// Holds the momentum (all of `votes.paddedCount` elements) and the step count.
    public let optimizer: LocalOptimizer
    public let buckets: BucketPlan
    private let comm: Communicator
    private let pool: ThreadPool
    private let wire: SignVoteWire
    private let p: AlignedBuffer<Float>
    private let g: AlignedBuffer<Float>
    /// Tile [0, layout.count): each group's lr multiplier and weight decay.
    private let groups: [ParameterGroup]
    /// Steps taken (applied or skipped), for the test hook.
    private var steps = 0
    private let dump: SignVoteDump?

    /// `groups` tile [0, layout.paddedCount) as for `ShardedOptimizer` (nil: one group with
    /// `config.weightDecay`); groups may not set their own betas (one voter kernel per step).
    /// Collective over `comm` only through later calls. Lion with fp32 state only (the caller
    /// refuses other settings with a line that says why).
    public init(layout: ShardLayout, config: OptimizerConfig, clipNorm: Float, comm: Communicator, pool: ThreadPool,
                buckets: BucketPlan, groups: [ParameterGroup]? = nil, rule: VoteRule = .majority, dump: SignVoteDump? = nil) {
        precondition(layout.worldSize == comm.size)
        precondition(config.kind == .lion && config.stateDType == .fp32, "sign-vote is Lion with fp32 momentum")
        self.layout = layout
        votes = SignVoteLayout(count: layout.count, worldSize: comm.size)
        rank = comm.rank
        self.clipNorm = clipNorm
        self.comm = comm
        self.pool = pool
        self.dump = dump
        let n = votes.paddedCount
        var tiled = ParameterGroup.normalized(groups ?? [ParameterGroup(range: 0..<layout.paddedCount, weightDecay: config.weightDecay)],
                                              count: layout.paddedCount)
        precondition(tiled.allSatisfy { $0.beta1 == nil && $0.beta2 == nil }, "sign-vote: parameter groups may not set betas")
        tiled = ParameterGroup.slice(tiled, to: 0..<layout.count)
        self.groups = tiled
        optimizer = LocalOptimizer(config: config, count: n, pool: pool)
        self.buckets = buckets   // backward reports them; nothing moves before the whole gradient is there
        wire = SignVoteWire(layout: votes, rule: rule, comm: comm)
        p = AlignedBuffer(count: n)
        g = AlignedBuffer(count: n)
    }

    /// Its own P and G: nothing but votes crosses the wire.
    public var buffers: any GradientBuffers { self }
    public var params: UnsafeMutablePointer<Float> { p.pointer }
    /// The full-size local gradient (backward writes it through `gradients`).
    public var flatGradients: UnsafeMutablePointer<Float>? { g.pointer }
    public var gradients: GradientSink { .flat(g.pointer) }
    public var sharesParams: Bool { false }
    public var description: String {
        let planes = wire.resultPlanes
        return "sign-vote (1-bit votes by MPI_Alltoall, bit-plane \(wire.rule.rawValue), \(planes)-bit result by MPI_Allgather; "
            + "\(hundredths(100 * (1 + planes) * (comm.size - 1) / comm.size)) bits per parameter per rank per step; full momentum per rank)"
    }
    public var rule: VoteRule { wire.rule }
    public var heldBytes: (parameters: Int, gradients: Int) {
        let b = Self.heldBytes(count: layout.count, worldSize: layout.worldSize, rule: rule)
        return (b.parameters, b.gradients)
    }
    /// What a rank holds (what `heldBytes` reports and the planner predicts): a private P and G
    /// over the vote layout (padded to 64W), the wire's bit buffers, and fp32 momentum for EVERY
    /// parameter: 4P, where sharded Lion holds 4P/W.
    public static func heldBytes(count: Int, worldSize: Int, rule: VoteRule) -> (parameters: Int, gradients: Int, state: Int) {
        let votes = SignVoteLayout(count: count, worldSize: worldSize)
        let full = votes.paddedCount * 4
        return (full, full + SignVoteWire.heldBytes(layout: votes, rule: rule), full)
    }
    public var stateBytes: Int { optimizer.stateBytes }
    public var state: OptimizerStateSlice { OptimizerStateSlice(optimizer: optimizer, perRank: true) }

    public func bucketReady(_ index: Int) throws {}
    public func paramsWritten() throws {}

    public func step(lr: Float, riders: inout [Double]) throws -> StepOutcome {
        var t = StepTimings()
        var clock = MPIRuntime.time()
        let count = layout.count

        dump?.dump(step: steps, rank: rank, params: p.pointer, grads: g.pointer, count: count)
        steps += 1
        // 1. The norm and the riders in one scalar allreduce; a non-finite gradient anywhere skips.
        var scalars = [scaleAndSumSquares(g.pointer, count: count, scale: 1, pool: pool)] + riders
        try comm.allreduceSum(&scalars)
        riders = Array(scalars.dropFirst())
        let norm = (scalars[0] / Double(comm.size)).squareRoot()
        guard norm.isFinite else {
            t.update = lap(&clock)
            return StepOutcome(applied: false, gradNorm: norm, timings: t)
        }
        let phases = try voteAndApply(lr: lr, gradScale: clipScale(globalNorm: norm, maxNorm: clipNorm))
        t.combine = phases.pack + phases.exchange
        t.gather = phases.gather
        t.update = lap(&clock) - t.combine - t.gather
        t.commTotal = comm.size > 1 ? t.combine + t.gather : 0
        t.commExposed = t.commTotal
        return StepOutcome(applied: true, gradNorm: norm, timings: t)
    }

    /// Seconds of each part of `voteAndApply` on this rank.
    public struct Phases: Sendable {
        public var pack = 0.0       // sign + momentum + packing
        public var exchange = 0.0   // MPI_Alltoall of the votes + the owner's count
        public var gather = 0.0     // MPI_Allgather of the result
        public var apply = 0.0      // the parameter update
    }

    /// Steps 2 to 4 (what `bench comm` times as `sign-vote`): vote with `grads * gradScale`,
    /// exchange, apply. Collective.
    public func voteAndApply(lr: Float, gradScale: Float) throws -> Phases {
        var clock = MPIRuntime.time()
        var t = Phases()
        let config = optimizer.config
        let k = SignVoteConstants(beta1: config.beta1, beta2: config.beta2, gradScale: gradScale)
        // 2. Vote: fused sign + momentum + pack over every element (the padding votes too).
        let params = UnsafePointer(p.pointer), grads = UnsafePointer(g.pointer)
        let m = optimizer.rawState(0).assumingMemoryBound(to: Float.self), bits = wire.votes
        Chunking.forEachChunk(votes.paddedCount, pool: pool) { lo, len in     // chunks are multiples of 64 elements
            SignVoteKernel.pack(params: params + lo, grads: grads + lo, m: m + lo, bits: bits + lo / 64, count: len, k)
        }
        t.pack = lap(&clock)
        // 3. Owners count their shard's votes; every rank gets the result.
        try wire.exchangeVotes(pool: pool)
        t.exchange = lap(&clock)
        try wire.gatherResult()
        t.gather = lap(&clock)
        // 4. Apply the voted update to the real parameters.
        apply(lr: lr)
        optimizer.step += 1
        t.apply = lap(&clock)
        return t
    }

    /// p = p*decay - lr*vote over [0, layout.count), per group, cut at the vote shards' ends.
    private func apply(lr: Float) {
        let groups = self.groups, shard = votes.shardCount, wire = self.wire, p = self.p.pointer
        let settings = groups.map { LionStepConstants(lr: lr * $0.lrScale, beta1: 0, beta2: 0, weightDecay: $0.weightDecay, gradScale: 1) }
        Chunking.forEachChunk(layout.count, pool: pool) { lo, len in
            var at = lo
            let hi = lo + len
            var gi = groups.firstIndex { $0.range.upperBound > lo }!
            while at < hi {
                let s = at / shard
                let end = min(hi, groups[gi].range.upperBound, (s + 1) * shard)
                let r = wire.result(shard: s), words = wire.layout.shardWords, first = at - s * shard
                switch wire.rule {
                case .majority:
                    SignVoteKernel.apply(params: p + at, sign: r, nonzero: r + words, first: first,
                                         count: end - at, lr: settings[gi].lr, decay: settings[gi].decay)
                case .average:
                    SignVoteKernel.applyAverage(params: p + at, counters: r, counterStride: words, voters: wire.layout.worldSize,
                                                first: first, count: end - at, lr: settings[gi].lr, decay: settings[gi].decay)
                }
                at = end
                if at == groups[gi].range.upperBound { gi += 1 }
            }
        }
    }
}

/// "2.25" for 225.
private func hundredths(_ x: Int) -> String {
    let cents = x % 100
    return "\(x / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
}

@inline(__always)
private func lap(_ clock: inout Double) -> Double {
    let now = MPIRuntime.time()
    defer { clock = now }
    return now - clock
}
