import ArgumentParser
import Collectives
import LionEngine
import RunSchema
import DataParallel
import Sharding

/// `lion-dist bench comm` (under mpirun): MPI_Allreduce, MPI_Reduce_scatter_block +
/// MPI_Allgather, and our reduce-scatter + gather on the same bytes. Logic: `DataParallel.CommBenchmark`.
struct BenchCommCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comm",
        abstract: "Time gradient combine + parameter gather: raw MPI collectives against our shared-memory reduce-scatter and sign-vote Lion's exchange (run under mpirun).")

    @Option(parsing: .unconditional, help: "Comma-separated buffer sizes in MiB.")
    var mib: String = "1,16,64,256"

    @Option(parsing: .unconditional, help: "Timed rounds per op (after one warm-up round), interleaved; rows report the median.")
    var repeats: Int = 7

    @Option(parsing: .unconditional, help: "Threads per rank for our summation and copies.")
    var threads: Int = 1

    @Flag(help: "One JSON object per line: op, mib, ranks, ms, wire_bytes, wire_bits_per_param.")
    var json = false

    func validate() throws {
        _ = try sizes()
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1, got \(repeats)") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1, got \(threads)") }
        let cores = CPUAffinity.coresAvailable()
        guard threads <= cores else {
            throw ValidationError("--threads \(threads) is more than the \(cores) core(s) this rank may use (its CPU affinity); use at most \(cores)")
        }
    }

    func sizes() throws -> [Int] {
        let parts = mib.split(separator: ",").map { Int(String($0.filter { $0 != " " })) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 && $0! <= 4096 }) else {
            throw ValidationError("--mib must be sizes in MiB from 1 to 4096 separated by commas (e.g. 1,16,64), got '\(mib)'")
        }
        return parts.map { $0! }
    }

    func run() throws {
        let bench = CommBenchmark(mib: try sizes(), repeats: repeats, threads: threads)
        try withMPI { world in
            let root = world.rank == 0
            if root && !json { print(BenchText.cpuLine + " (rank 0)"); print("op                             MiB  ranks        ms   bus GB/s  vs mpi-allreduce  wire bits/param") }
            try bench.run(topology: try Topology(world: world, nodeKey: TestEnvironment.nodeKey)) { rows in
                guard root else { return }
                let base = rows.first { $0.op == "mpi-allreduce" }?.ms ?? .nan
                for r in rows {
                    if json {
                        print("{\"op\":\"\(r.op)\",\"mib\":\(r.mib),\"ranks\":\(r.ranks),\"ms\":\(BenchText.fixed(r.ms, 4)),\"wire_bytes\":\(Int(r.wireBytes)),"
                              + "\"wire_bits_per_param\":\(BenchText.fixed(8 * r.wireBytes / Double(r.parameters), 3))" + BenchText.cpuField + "}")
                    } else {
                        print(BenchText.left(r.op, 28) + BenchText.right("\(r.mib)", 6) + BenchText.right("\(r.ranks)", 7)
                              + BenchText.right(BenchText.fixed(r.ms, 3), 10) + BenchText.right(BenchText.fixed(r.busGBPerS, 2), 11) + BenchText.right(BenchText.fixed(base / r.ms, 2) + "x", 18)
                              + BenchText.right(BenchText.fixed(8 * r.wireBytes / Double(r.parameters), 2), 17))
                        if !r.phases.isEmpty {
                            print("  \(r.op) on rank 0, median ms: " + r.phases.map { "\($0.0) \(BenchText.fixed($0.1, 3))" }.joined(separator: ", "))
                        }
                    }
                }
            }
        }
    }
}
