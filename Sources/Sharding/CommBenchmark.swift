import Basics
import Collectives
import LionEngine

/// `lion-dist bench comm`: the gradient combine + parameter gather, timed three ways on the same
/// bytes in one run: raw MPI_Allreduce, raw MPI_Reduce_scatter_block + MPI_Allgather, and our
/// reduce-scatter + gather (`SharedMemoryCombiner`, flat or hierarchical as the nodes fall).
/// Rounds are interleaved (op A, B, C, A, B, C, ...) so machine noise hits all alike; each timing
/// is the slowest rank's (a barrier before, the max after), and rows report the median.
public struct CommBenchmark {
    public struct Row: Sendable {
        public let op: String
        public let mib: Int
        public let ranks: Int
        public let ms: Double
        /// Bytes each rank moves in a ring algorithm for the same result (nccl-tests' bus
        /// bytes): 2(W-1)/W * size for all three ops (reduce-scatter + allgather = allreduce).
        public let wireBytes: Double
        /// wireBytes / time (GB/s, 1e9).
        public var busGBPerS: Double { wireBytes / (ms * 1e-3) / 1e9 }
    }

    public static let ops = ["mpi-allreduce", "mpi-reduce-scatter-allgather", "reduce-scatter-allgather"]

    public let mib: [Int]
    public let repeats: Int
    public let threads: Int

    public init(mib: [Int], repeats: Int, threads: Int) {
        self.mib = mib
        self.repeats = repeats
        self.threads = threads
    }

    /// Collective over `world`. Calls `report` with each size's rows (the same on every rank).
    public func run(world: Communicator, report: ([Row]) -> Void) throws {
        let node = try world.splitByNode()
        let pool = ThreadPool(threads: threads)
        let w = world.size
        for size in mib {
            let count = size << 18                      // floats in `size` MiB
            let layout = ShardLayout(count: count, worldSize: w)
            let n = layout.paddedCount, shard = layout.shardCount
            let raw = AlignedBuffer<Float>(count: n), block = AlignedBuffer<Float>(count: shard), params = AlignedBuffer<Float>(count: n)
            let combiner = try SharedMemoryCombiner(layout: layout, world: world, node: node,
                                                    buckets: .single(paddedCount: n), overlap: false)
            let grads = combiner.flatGradients!
            for i in 0..<n { raw.pointer[i] = 1; grads[i] = 1 }
            let bodies: [() throws -> Void] = [
                { try world.allreduceSum(raw.pointer, count: n) },
                { try world.reduceScatterBlock(raw.pointer, into: block.pointer, blockCount: shard)
                  try world.allgatherInPlace(params.pointer, blockCount: shard) },
                { _ = try combiner.reduceScatterMean(pool: pool)
                  try combiner.allgatherParams(pool: pool) },
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
            report(zip(Self.ops, times).map { Row(op: $0, mib: size, ranks: w, ms: median($1), wireBytes: wire) })
        }
    }
}
