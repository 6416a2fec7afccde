import Basics
#if canImport(Glibc)
import Glibc
#endif
import Collectives
import LionEngine

/// `--comm reduce-scatter`: a true reduce-scatter through node-shared memory (MPI-3 shared
/// windows), hierarchical across nodes.
///
/// Each rank's gradient buffer G and parameter buffer P live in its segment of one window over
/// its node, so backward writes G straight into shared memory. Rank r owns shard r (the same
/// `ShardLayout` as `--comm allreduce`). Three plans, chosen from the node layout:
///
/// - **one node** (`flat`): rank r sums shard r out of every peer's G in one SIMD pass that also
///   scales by 1/W and sums squares (`sumScaleAndSumSquares`), writing into its own G. Gather:
///   each rank updated shard r of its own P; after a node sync it copies every other shard from
///   its owner's P. Two node syncs per step, no MPI data movement.
/// - **equal-sized nodes** (`columns`, N nodes of L ranks; includes one rank per node): node rank
///   l sums, over its node, the shards of the ranks with node rank l on every node (one per node)
///   into a private staging buffer, then those N ranks (a "column" communicator, one per node)
///   run MPI_Reduce_scatter_block on it, so each receives its own shard's world sum; scale and
///   squares follow in one pass. Gather: MPI_Allgather in the column, then the node-shared copy
///   as in `flat`. Wire bytes between nodes: those of a reduce-scatter of 1/L of G per rank.
/// - **nodes of different sizes** (`leaders`): node rank l sums part l of G over its node into a
///   node-summed copy in node rank 0's segment; the node leaders MPI_Allreduce that copy; each
///   rank reads its shard back (scaled, squares). Gather: MPI_Allgather over the world.
///   Correct for any layout; it moves a whole G between leaders, so it is a fallback.
///
/// Shared parameters (`sharedParams`, `--shard params`; `flat` and `columns`): P lives once per
/// node, after G in node rank 0's segment, and every rank of the node reads it. Each rank
/// updates its own shard in place; `columns` then writes the shards its column peers on other
/// nodes updated (MPI_Allgather in the column, as before) into the same P, so the ranks of a
/// node write disjoint shards that tile P; the intra-node copy is gone. Barrier discipline, per
/// step: (1) no rank writes P before every rank of the node has finished reading it: backward
/// ends before the combine's node sync (`flat`, `columns`) or the release counters (`flat`
/// with overlap), and in every plan before the gradient-norm MPI_Allreduce that precedes the
/// update; (2) no rank reads P before every write is visible: one node `sync()` after the
/// writes, the one the private-copy gather also needs, so the discipline costs no extra
/// barrier and saves the copy of (k-1)/k of P per rank. `leaders` keeps private copies (its
/// world MPI_Allgather writes a rank's whole P).
///
/// Sharded gradients (`gradients`, `--shard gradients-and-params`; `flat` and `columns`, with
/// shared parameters): G is not a full-size buffer but `GradientSlots`, three bucket-sized
/// staging slots in each rank's segment. At each `bucketReady(b)` the node syncs (every rank
/// has written bucket b; the slots retired at the previous sync are free again) and each rank
/// sums its part of bucket b out of every node peer's slot: `flat` into its private reduced
/// shard (scaled by 1/W, squares summed, in the same pass as `flat` without slots), `columns`
/// into its staging rows as above (one MPI_Reduce_scatter_block after backward). The sums are
/// the same element by element as with a full G, so the two layouts agree bit for bit. Cost:
/// one node sync per bucket instead of one per step; the last readers of the last bucket are
/// ordered before the next step's writes by the gradient-norm MPI_Allreduce.
///
/// Overlap (`flat` with a full G only): `bucketReady` publishes a per-rank progress counter in the window;
/// whenever every node peer has published a bucket, this rank reduces that bucket's part of its
/// own shard, between backward's layers. The other plans reduce after backward. Only the main
/// thread calls MPI; the summation runs on the thread pool.
public final class SharedMemoryCombiner: GradientCombiner {
    enum Plan {
        case flat
        case columns(column: Communicator, shards: [Int])   // world ranks r_{n,l} for n = 0..<N
        case leaders(leaders: Communicator?)                // non-nil on node rank 0
    }

    public let layout: ShardLayout
    public let buckets: BucketPlan
    private let world: Communicator
    private let node: Communicator
    private let topology: NodeTopology
    private let window: SharedWindow
    private let plan: Plan
    private let scope: ShardScope
    private let overlap: Bool
    private let staging: AlignedBuffer<Float>?
    private let peers: [Int]          // world ranks of this node, by node rank
    private let paramsOffset: Int     // bytes into the data area of paramsOwner's segment
    private let paramsOwner: Int      // node rank whose segment holds the P this rank reads
    private let sumOffset: Int
    public let sharesParams: Bool
    /// Sharded gradients: the staging slots, and this rank's reduced shard (private).
    private let slots: GradientSlots?
    private let reducedShard: AlignedBuffer<Float>?
    // Overlap state.
    private var stepIndex: UInt64 = 0
    private var published = 0
    private var reduced = 0
    private var squares = 0.0
    private var handoffs = HandoffClock()

    /// Collective over `topology.world`.
    public init(layout: ShardLayout, topology: Topology, buckets: BucketPlan, overlap: Bool,
                scope: ShardScope = .stateOnly) throws {
        let world = topology.world, node = topology.node
        precondition(layout.worldSize == world.size)
        self.layout = layout
        self.scope = scope
        self.world = world
        self.node = node
        self.buckets = buckets
        self.topology = topology.nodes
        let topology = topology.nodes
        peers = topology.members[topology.nodeOf[world.rank]]
        let n = layout.paddedCount
        if topology.nodeCount == 1 {
            plan = .flat
            staging = nil
        } else if topology.isUniform {
            let l = node.rank
            let column = try world.split(color: l, key: topology.nodeOf[world.rank])
            plan = .columns(column: column, shards: topology.members.map { $0[l] })
            staging = AlignedBuffer<Float>(count: topology.nodeCount * layout.shardCount)
        } else {
            plan = .leaders(leaders: try world.subset(member: node.rank == 0, key: world.rank))
            staging = nil
        }
        if case .leaders = plan { sharesParams = false } else { sharesParams = scope != .stateOnly }
        let staged = GradientSlots.apply(scope: scope, sharedParams: sharesParams, buckets: buckets, worldSize: layout.worldSize)
        paramsOwner = sharesParams ? 0 : node.rank
        // Every segment: G (full, or the staging slots), then (private, or node rank 0 when
        // shared) P, then (leaders, node rank 0) the node-summed G.
        let gradientElements = staged ? GradientSlots.elements(buckets: buckets) : n
        paramsOffset = gradientElements * 4
        sumOffset = paramsOffset + n * 4
        var bytes = gradientElements * 4
        if !sharesParams || node.rank == 0 { bytes += n * 4 }
        if case .leaders = plan, node.rank == 0 { bytes += n * 4 }
        window = try SharedWindow(node: node, bytes: bytes)
        slots = staged ? GradientSlots(buckets: buckets, count: layout.count, base: window.floats(of: node.rank, at: 0)) : nil
        reducedShard = staged ? AlignedBuffer<Float>(count: layout.shardCount) : nil
        if case .flat = plan { self.overlap = overlap && buckets.ranges.count > 1 && !staged } else { self.overlap = false }
    }

    public var params: UnsafeMutablePointer<Float> { window.floats(of: paramsOwner, at: paramsOffset) }
    /// The full-size G in this rank's segment (without slots).
    private var grads: UnsafeMutablePointer<Float> { window.floats(of: node.rank, at: 0) }
    public var gradients: GradientSink { slots.map { GradientSink($0) } ?? .flat(grads) }
    public var flatGradients: UnsafeMutablePointer<Float>? { slots == nil ? grads : nil }
    public var shardGradient: UnsafeMutablePointer<Float> { reducedShard?.pointer ?? grads + layout.range(of: world.rank).lowerBound }
    public var description: String {
        let nodes = topology.nodeCount
        let what: String
        switch plan {
        case .flat:
            what = "reduce-scatter (shared memory, 1 node" + (overlap ? ", \(buckets.ranges.count) buckets overlapped)" : ")")
        case .columns:
            what = "reduce-scatter (hierarchical: shared memory in \(nodes) nodes of \(node.size), MPI_Reduce_scatter_block between)"
        case .leaders:
            what = "reduce-scatter (hierarchical: \(nodes) nodes of unequal size, node-leader MPI_Allreduce between)"
        }
        let staging = slots.map { "; gradients sharded (\(GradientSlots.slotsPerRank) staging slots of \($0.slotElements) floats per rank)" } ?? ""
        return what + (sharesParams ? "; parameters once per node (shared)" : "; parameters private per rank") + staging
    }

    private func peerGrads(_ localRank: Int) -> UnsafePointer<Float> { UnsafePointer(window.floats(of: localRank, at: 0)) }

    public func bucketReady(_ index: Int) throws {
        if let slots { return try handoffs.time { try reduceStaged(index, slots) } }
        guard overlap else { return }
        guard index == published else { throw BucketOrder.outOfOrder(index, expected: published, rank: world.rank) }
        handoffs.time {
            published += 1
            window.publish(stepIndex * UInt64(buckets.ranges.count) + UInt64(published))
            reduceReadyBuckets(blocking: false)
        }
    }

    public func reduceScatterMean(pool: ThreadPool) throws -> Double {
        let own = layout.range(of: world.rank)
        let shard = layout.shardCount
        let scale = 1 / Float(layout.worldSize)
        if let slots, let reducedShard { return try finishStaged(slots, into: reducedShard.pointer, pool: pool) }
        switch plan {
        case .flat where overlap:
            if published < buckets.ranges.count {
                published = buckets.ranges.count
                window.publish((stepIndex + 1) * UInt64(buckets.ranges.count))
            }
            reduceReadyBuckets(blocking: true, pool: pool)
            let result = squares
            stepIndex += 1
            published = 0
            reduced = 0
            squares = 0
            return result
        case .flat:
            try window.sync()
            let sources = (0..<peers.count).map { peerGrads($0) + own.lowerBound }
            return sumScaleAndSumSquares(sources, into: grads + own.lowerBound, count: shard, scale: scale, pool: pool)
        case .columns(let column, let shards):
            try window.sync()
            let staging = staging!.pointer
            for (n, k) in shards.enumerated() {
                let sources = (0..<peers.count).map { peerGrads($0) + k * shard }
                _ = sumScaleAndSumSquares(sources, into: staging + n * shard, count: shard, scale: 1, pool: pool)
            }
            try column.reduceScatterBlock(staging, into: grads + own.lowerBound, blockCount: shard)
            return scaleAndSumSquares(grads + own.lowerBound, count: shard, scale: scale, pool: pool)
        case .leaders(let leaders):
            try window.sync()
            let sum = window.floats(of: 0, at: sumOffset)
            let part = Self.part(node.rank, of: node.size, count: layout.paddedCount)
            let sources = (0..<peers.count).map { peerGrads($0) + part.lowerBound }
            _ = sumScaleAndSumSquares(sources, into: sum + part.lowerBound, count: part.count, scale: 1, pool: pool)
            try window.sync()
            if let leaders { try leaders.allreduceSum(sum, count: layout.paddedCount) }
            try window.sync()
            return sumScaleAndSumSquares([UnsafePointer(sum + own.lowerBound)], into: grads + own.lowerBound,
                                         count: shard, scale: scale, pool: pool)
        }
    }

    /// Reduces, in bucket order, every bucket's part of this rank's shard that all node peers
    /// have published; `blocking` waits (yielding the CPU) for the rest.
    private func reduceReadyBuckets(blocking: Bool, pool: ThreadPool? = nil) {
        let own = layout.range(of: world.rank)
        let count = UInt64(buckets.ranges.count)
        while reduced < buckets.ranges.count {
            let target = stepIndex * count + UInt64(reduced + 1)
            while !(0..<peers.count).allSatisfy({ window.published(by: $0) >= target }) {
                if !blocking { return }
                sched_yield()
            }
            let r = buckets.ranges[reduced].clamped(to: own)
            if !r.isEmpty {
                let sources = (0..<peers.count).map { peerGrads($0) + r.lowerBound }
                squares += sumScaleAndSumSquares(sources, into: grads + r.lowerBound, count: r.count,
                                                 scale: 1 / Float(layout.worldSize), pool: pool ?? serial)
            }
            reduced += 1
        }
    }

    /// Sharded gradients: every rank has written bucket `b` into its slot; this rank sums its
    /// part of it out of every node peer's slot (see the type's comment).
    private func reduceStaged(_ b: Int, _ slots: GradientSlots) throws {
        guard b == published else { throw BucketOrder.outOfOrder(b, expected: published, rank: world.rank) }
        published += 1
        try window.sync()
        slots.barrierPassed()
        let bucket = buckets.ranges[b], slot = slots.slotIndex(of: b), shard = layout.shardCount
        let sources = { (r: Range<Int>) in
            (0..<self.peers.count).map { self.peerGrads($0) + slot * slots.slotElements + (r.lowerBound - bucket.lowerBound) }
        }
        switch plan {
        case .flat:
            let own = layout.range(of: world.rank), r = bucket.clamped(to: own)
            if !r.isEmpty {
                squares += sumScaleAndSumSquares(sources(r), into: reducedShard!.pointer + (r.lowerBound - own.lowerBound),
                                                 count: r.count, scale: 1 / Float(layout.worldSize), pool: serial)
            }
        case .columns(_, let shards):
            for (n, k) in shards.enumerated() {
                let part = layout.range(of: k), r = bucket.clamped(to: part)
                if r.isEmpty { continue }
                _ = sumScaleAndSumSquares(sources(r), into: staging!.pointer + n * shard + (r.lowerBound - part.lowerBound),
                                          count: r.count, scale: 1, pool: serial)
            }
        case .leaders:
            preconditionFailure("sharded gradients need equal nodes")
        }
        slots.retire(b)
    }

    /// Sharded gradients after backward: every bucket was reduced in `bucketReady`; `columns`
    /// reduce-scatters the node sums between nodes.
    private func finishStaged(_ slots: GradientSlots, into reduced: UnsafeMutablePointer<Float>, pool: ThreadPool) throws -> Double {
        guard published == buckets.ranges.count else {
            throw BucketOrder.missing(published, of: buckets.ranges.count, rank: world.rank)
        }
        defer {
            published = 0
            squares = 0
            slots.reset()     // the gradient-norm MPI_Allreduce orders the last reads before any write
        }
        switch plan {
        case .columns(let column, _):
            try column.reduceScatterBlock(staging!.pointer, into: reduced, blockCount: layout.shardCount)
            return scaleAndSumSquares(reduced, count: layout.shardCount, scale: 1 / Float(layout.worldSize), pool: pool)
        default:
            return squares
        }
    }

    /// Reductions between backward's layers run on the main thread only: BLAS owns the cores.
    private let serial = ThreadPool(threads: 1)

    public func allgatherParams(pool: ThreadPool) throws {
        let shard = layout.shardCount
        let me = world.rank
        switch plan {
        case .flat where sharesParams:
            try window.sync()       // every shard written in place; visible before any read
        case .columns(let column, let shards) where sharesParams:
            let staging = staging!.pointer
            try column.allgather(params + me * shard, into: staging, blockCount: shard)
            for (n, k) in shards.enumerated() where k != me {
                parallelCopy(from: staging + n * shard, to: params + k * shard, count: shard, pool: pool)
            }
            try window.sync()
        case .flat:
            try window.sync()
            for (l, k) in peers.enumerated() where k != me {
                parallelCopy(from: window.floats(of: l, at: paramsOffset) + k * shard, to: params + k * shard,
                             count: shard, pool: pool)
            }
        case .columns(let column, let shards):
            let staging = staging!.pointer
            try column.allgather(params + me * shard, into: staging, blockCount: shard)
            for (n, k) in shards.enumerated() where k != me {
                parallelCopy(from: staging + n * shard, to: params + k * shard, count: shard, pool: pool)
            }
            try window.sync()
            for (l, _) in peers.enumerated() where l != node.rank {
                for members in topology.members {
                    let k = members[l]
                    parallelCopy(from: window.floats(of: l, at: paramsOffset) + k * shard, to: params + k * shard,
                                 count: shard, pool: pool)
                }
            }
        case .leaders:
            try world.allgatherInPlace(params, blockCount: shard)
        }
    }

    public var heldBytes: (parameters: Int, gradients: Int) {
        Self.heldBytes(layout: layout, buckets: buckets, scope: scope, ranksPerNode: node.size,
                       nodes: topology.nodeCount, uniform: topology.isUniform)
    }

    /// Bytes of P and of gradient buffers a rank holds on `nodes` nodes of `ranksPerNode` ranks
    /// (`uniform`: every node has as many): what `heldBytes` reports and the planner predicts.
    /// P is shared per node (1/k of it counts) unless the scope keeps it private or the nodes
    /// differ in size (node rank 0 then sums the node's G: 1/k of a full buffer); G is full-size
    /// or the staging slots and the reduced shard; several equal nodes add a staging row per node.
    public static func heldBytes(layout: ShardLayout, buckets: BucketPlan, scope: ShardScope, ranksPerNode k: Int,
                                 nodes: Int, uniform: Bool) -> (parameters: Int, gradients: Int) {
        let n = layout.paddedCount * 4
        let leaders = nodes > 1 && !uniform, columns = nodes > 1 && uniform
        let shares = !leaders && scope != .stateOnly
        let staged = GradientSlots.apply(scope: scope, sharedParams: shares, buckets: buckets, worldSize: layout.worldSize)
        let grads = (staged ? GradientSlots.bytes(buckets: buckets, shardCount: layout.shardCount) : n)
            + (columns ? nodes * layout.shardCount * 4 : 0) + (leaders ? n / k : 0)
        return (shares ? n / k : n, grads)
    }

    public func paramsWritten() throws {
        try window.sync()
    }

    public func takeHandoffs() -> Handoffs? { handoffs.take() }

    /// Part `i` of [0, count) split into `parts` 16-element aligned pieces.
    static func part(_ i: Int, of parts: Int, count: Int) -> Range<Int> {
        let units = count / ShardLayout.alignment
        let lo = units * i / parts * ShardLayout.alignment
        let hi = i == parts - 1 ? count : units * (i + 1) / parts * ShardLayout.alignment
        return lo..<hi
    }
}
