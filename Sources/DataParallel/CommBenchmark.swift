import Basics
import Collectives
import LionEngine
import Sharding
import SignVote

/// `lion-dist bench comm`: the gradient combine + parameter gather, timed four ways on the same
/// parameters in one run: raw MPI_Allreduce, raw MPI_Reduce_scatter_block + MPI_Allgather, our
/// reduce-scatter + gather (`SharedMemoryCombiner`, flat or hierarchical as the nodes fall), and
/// sign-vote Lion's exchange (`SignVoteOptimizer.voteAndApply`: the fused sign + momentum + pack
/// over all parameters, MPI_Alltoall of the bits, the bit-plane vote, MPI_Allgather of the
/// result and the update of every parameter: everything but the norm's scalar allreduce).
/// Rounds are interleaved (op A, B, C, A, B, C, ...) so machine noise hits all alike; each timing
/// is the slowest rank's (a barrier before, the max after), and rows report the median.
public struct CommBenchmark {
    public struct Row: Sendable {
        public let op: String
        public let mib: Int
        public let ranks: Int
        public let ms: Double
        /// Bytes each rank moves in a ring algorithm for the same result (nccl-tests' bus
        /// bytes): 2(W-1)/W * size for the first three ops (reduce-scatter + allgather =
        /// allreduce); sign-vote: 3(W-1)/W bits per parameter (`SignVoteLayout.wireBytes`).
        public let wireBytes: Double
        /// Parameters (fp32 elements) of the size: wire bits per parameter = 8 * wireBytes / parameters.
        public let parameters: Int
        /// Parts of the op on rank 0 (sign-vote), median ms each.
        public var phases: [(String, Double)] = []
        /// wireBytes / time (GB/s, 1e9).
        public var busGBPerS: Double { wireBytes / (ms * 1e-3) / 1e9 }
    }

    public static let ops = ["mpi-allreduce", "mpi-reduce-scatter-allgather", "reduce-scatter-allgather", "sign-vote"]

    public let mib: [Int]
    public let repeats: Int
    public let threads: Int

    public init(mib: [Int], repeats: Int, threads: Int) {
        self.mib = mib
        self.repeats = repeats
        self.threads = threads
    }

    /// Collective over `topology.world`. Calls `report` with each size's rows (the same on every rank).
    public func run(topology: Topology, report: ([Row]) -> Void) throws {
        let world = topology.world
        let pool = ThreadPool(threads: threads)
        let w = world.size
        for size in mib {
            let count = size << 18                      // floats in `size` MiB
            let layout = ShardLayout(count: count, worldSize: w)
            let n = layout.paddedCount, shard = layout.shardCount
            let raw = AlignedBuffer<Float>(count: n), block = AlignedBuffer<Float>(count: shard), params = AlignedBuffer<Float>(count: n)
            let combiner = try SharedMemoryCombiner(layout: layout, topology: topology,
                                                    buckets: .single(paddedCount: n), overlap: false)
            let grads = combiner.flatGradients!
            for i in 0..<n { raw.pointer[i] = 1; grads[i] = 1 }
            let voter = SignVoteOptimizer(layout: layout, config: .defaults(for: .lion), clipNorm: 0, comm: world, pool: pool,
                                          buckets: .single(paddedCount: n))
            // Gradients of both signs, different on each rank, so the votes split (ties at even W).
            let local = voter.flatGradients!
            for i in 0..<count { local[i] = (i &* 2_654_435_761 &+ world.rank) & 2 == 0 ? 1 : -1 }
            var phases: [SignVoteOptimizer.Phases] = []
            let bodies: [() throws -> Void] = [
                { try world.allreduceSum(raw.pointer, count: n) },
                { try world.reduceScatterBlock(raw.pointer, into: block.pointer, blockCount: shard)
                  try world.allgatherInPlace(params.pointer, blockCount: shard) },
                { _ = try combiner.reduceScatterMean(pool: pool)
                  try combiner.allgatherParams(pool: pool) },
                { phases.append(try voter.voteAndApply(lr: 1e-4, gradScale: 1)) },
            ]
            var times = [[Double]](repeating: [], count: bodies.count)
            for round in 0..<(repeats + 1) {
                for (k, body) in bodies.enumerated() {
                    // Keep values bounded: the raw allreduce multiplies them by W each time.
                    if k == 0 { for i in stride(from: 0, to: n, by: 1) { raw.pointer[i] = 1 } }
                    try world.barrier()
                    let t0 = MPIRuntime.time()
                    try body()
                    let mine = Int64((MPIRuntime.time() - t0) * 1e9)
                    let slowest = try world.allreduceMax(mine)
                    if round > 0 { times[k].append(Double(slowest) * 1e-6) }   // first round warms up
                }
            }
            let wire = 2 * Double(w - 1) / Double(w) * Double(count * 4)
            let wires = [wire, wire, wire, voter.votes.wireBytes(.majority)]
            let timed = phases.dropFirst()       // the warm-up round's
            let parts = [("pack", timed.map(\.pack)), ("alltoall + vote", timed.map(\.exchange)),
                         ("allgather", timed.map(\.gather)), ("apply", timed.map(\.apply))]
            report(zip(Self.ops, times).enumerated().map {
                Row(op: $1.0, mib: size, ranks: w, ms: median($1.1), wireBytes: wires[$0], parameters: count,
                    phases: $0 == 3 ? parts.map { ($0.0, median($0.1) * 1e3) } : [])
            })
        }
    }
}
