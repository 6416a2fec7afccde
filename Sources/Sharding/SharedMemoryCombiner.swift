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
/// Overlap (`flat` only): `bucketReady` publishes a per-rank progress counter in the window;
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
    private let overlap: Bool
    private let staging: AlignedBuffer<Float>?
    private let peers: [Int]          // world ranks of this node, by node rank
    private let paramsOffset: Int     // bytes into the data area of paramsOwner's segment
    private let paramsOwner: Int      // node rank whose segment holds the P this rank reads
    private let sumOffset: Int
    public let sharesParams: Bool
    // Overlap state.
    private var stepIndex: UInt64 = 0
    private var published = 0
    private var reduced = 0
    private var squares = 0.0
    private var firstStart: Double? = nil

    /// Collective over `world`; `node` is `world.splitByNode()`.
    public init(layout: ShardLayout, world: Communicator, node: Communicator, buckets: BucketPlan, overlap: Bool,
                sharedParams: Bool = false) throws {
        precondition(layout.worldSize == world.size)
        self.layout = layout
        self.world = world
        self.node = node
        self.buckets = buckets
        topology = try NodeTopology.gather(world: world, node: node)
        peers = topology.members[topology.nodeOf[world.rank]]
        let n = layout.paddedCount
        paramsOffset = n * 4
        sumOffset = 2 * n * 4
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
        if case .leaders = plan { sharesParams = false } else { sharesParams = sharedParams }
        paramsOwner = sharesParams ? 0 : node.rank
        // Every segment: G, then (private, or node rank 0 when shared) P, then (leaders, node
        // rank 0) the node-summed G.
        var bytes = n * 4
        if !sharesParams || node.rank == 0 { bytes += n * 4 }
        if case .leaders = plan, node.rank == 0 { bytes += n * 4 }
        window = try SharedWindow(node: node, bytes: bytes)
        if case .flat = plan { self.overlap = overlap && buckets.ranges.count > 1 } else { self.overlap = false }
    }

    public var params: UnsafeMutablePointer<Float> { window.floats(of: paramsOwner, at: paramsOffset) }
    public var grads: UnsafeMutablePointer<Float> { window.floats(of: node.rank, at: 0) }
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
        return what + (sharesParams ? "; parameters once per node (shared)" : "; parameters private per rank")
    }

    private func peerGrads(_ localRank: Int) -> UnsafePointer<Float> { UnsafePointer(window.floats(of: localRank, at: 0)) }

    public func bucketReady(_ index: Int) throws {
        guard overlap else { return }
        if firstStart == nil { firstStart = MPIRuntime.time() }
        guard index == published else { throw BucketOrder.outOfOrder(index, expected: published, rank: world.rank) }
        published += 1
        window.publish(stepIndex * UInt64(buckets.ranges.count) + UInt64(published))
        reduceReadyBuckets(blocking: false)
    }

    public func reduceScatterMean(pool: ThreadPool) throws -> Double {
        let own = layout.range(of: world.rank)
        let shard = layout.shardCount
        let scale = 1 / Float(layout.worldSize)
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
        let n = layout.paddedCount * 4
        var grads = n + (staging?.count ?? 0) * 4
        if case .leaders = plan { grads += n / node.size }
        return (sharesParams ? n / node.size : n, grads)
    }

    public func paramsWritten() throws {
        try window.sync()
    }

    public func takeFirstBucketStart() -> Double? {
        defer { firstStart = nil }
        return firstStart
    }

    /// Part `i` of [0, count) split into `parts` 16-element aligned pieces.
    static func part(_ i: Int, of parts: Int, count: Int) -> Range<Int> {
        let units = count / ShardLayout.alignment
        let lo = units * i / parts * ShardLayout.alignment
        let hi = i == parts - 1 ? count : units * (i + 1) / parts * ShardLayout.alignment
        return lo..<hi
    }
}
