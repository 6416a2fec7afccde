import Basics
import Collectives
import Foundation
import MemoryPlanning
import Training

/// Before a run allocates anything: does its `lion-dist plan` fit the memory each node has
/// available? A run that does not fit would be killed by the kernel part way (one rank, then
/// mpirun's abort), so it is refused with one line on every rank instead. The plan is within
/// about 10% of what a run measures; `--no-memory-check` runs anyway.
enum MemoryCheck {
    /// MemAvailable from /proc/meminfo, in bytes; nil where there is none.
    static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }

    /// Collective over `topology.world`.
    static func check(config: RunConfig, topology: Topology) throws {
        guard config.memoryCheck else { return }
        let comm = topology.world, node = topology.node
        let plan = MemoryPlan(config: config, worldSize: comm.size, ranksPerNode: node.size)
        let need = plan.perRank.total * node.size
        let host = Communicator.processorName()
        try comm.agree {
            guard node.rank == 0, let available = availableBytes(), need > available else { return }
            throw TrainingError("this run needs about \(Format.bytes(need)) on \(host) (\(node.size) rank(s) x \(Format.bytes(plan.perRank.total)); lion-dist plan ... --ranks \(comm.size) --ranks-per-node \(node.size) shows the parts) but it has \(Format.bytes(available)) available; use a smaller model or batch, more nodes, fewer ranks per node, or --no-memory-check to try anyway")
        }
    }
}
