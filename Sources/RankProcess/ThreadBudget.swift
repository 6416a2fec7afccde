import Basics
import Collectives
import Foundation
import LionEngine

/// How many threads this rank may use: the cores in its affinity mask, each shared by the
/// ranks of this node whose masks also hold it. Four ranks bound one core each get 1 thread
/// each; four unbound ranks on 2 cores get 2/4 -> 1; two ranks bound to 4 cores each get 4.
/// Never the machine's core count.
///
/// OpenMPI binds each rank to one core by default when it starts 2 ranks or fewer, which
/// leaves a multi-core node idle under a thread-pooled rank. When the node's ranks together
/// hold fewer cores than mpirun itself may use and the binding was OpenMPI's default (no
/// `--bind-to`, no `--map-by ...:PE=N`), each rank widens its mask to its share of mpirun's
/// cores and says so in one line; an explicit binding is kept, with one warning line naming
/// the mpirun option that would use the idle cores.
package struct ThreadBudget {
    /// Threads for the update pool and OpenBLAS.
    package let threads: Int
    /// One line for rank 0 to print (stdout), when the binding was widened.
    package let note: String?
    /// One line for rank 0 to print (stderr), when an explicit binding leaves cores idle.
    package let warning: String?

    /// Threads for this rank, agreed with the other ranks of its node; `requested` is
    /// `--threads`, which may not exceed the cores in this rank's (possibly widened) mask.
    /// Collective over `node`.
    package static func resolve(requested: Int?, node: Communicator,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ThreadBudget {
        var masks = try gather(node: node)
        var note: String? = nil, warning: String? = nil
        let binding = MPIBinding(environment: environment)
        let union = masks.dropFirst().reduce(masks[0]) { u, m in zip(u, m).map { $0 | $1 } }
        let held = CPUAffinity.count(union)
        // The launcher (mpirun, or OpenMPI's daemon on other nodes) is not bound itself.
        let launcherMask = CPUAffinity.mask(of: getppid())
        let launcher = CPUAffinity.cpus(launcherMask)
        let inside = zip(union, launcherMask).allSatisfy { $0 & ~$1 == 0 }
        // Every input below is the same on every node rank, so they all decide alike (collective).
        let fair = launcher.count / max(node.size, 1)
        let fewest = masks.map(CPUAffinity.count).min() ?? 0
        if binding != .none && inside && launcher.count > held && fair > fewest {
            if binding == .openMPIDefault {
                let lo = node.rank * launcher.count / node.size, hi = (node.rank + 1) * launcher.count / node.size
                if CPUAffinity.setMask(CPUAffinity.mask(cpus: Array(launcher[lo..<hi]))) {
                    note = "threads: mpirun's default binding left \(launcher.count - held) of this node's \(launcher.count) cores idle; "
                        + "each rank now uses its share (\(fair)); mpirun --bind-to none or --map-by slot:PE=N chooses explicitly"
                }
                masks = try gather(node: node)
            } else {
                warning = "warning: mpirun's binding gives this node's \(node.size) rank(s) \(held) of its \(launcher.count) cores; "
                    + "pass --map-by slot:PE=\(fair) (or --bind-to none) to use the idle ones"
            }
        }
        let mine = CPUAffinity.count(masks[node.rank])
        let threads = share(of: node.rank, masks: masks)
        if let requested, requested > max(mine, 1) {
            throw TrainingError("--threads \(requested) is more than the \(mine) core(s) this rank may use (its CPU affinity); "
                + "use at most \(mine), or leave --threads out for this rank's share (\(threads))")
        }
        return ThreadBudget(threads: requested ?? threads, note: note, warning: warning)
    }

    /// Every node rank's affinity mask, as 64-bit words (unknown counts as CPU 0).
    private static func gather(node: Communicator) throws -> [[UInt64]] {
        var mine = CPUAffinity.mask()
        if mine.allSatisfy({ $0 == 0 }) { mine[0] = 1 }
        return try node.allgather(mine)
    }

    /// Rank `r`'s share: each CPU of its mask counts 1/k when k node ranks hold it.
    package static func share(of r: Int, masks: [[UInt64]]) -> Int {
        var share = 0.0
        for cpu in CPUAffinity.cpus(masks[r]) {
            let holders = masks.filter { $0[cpu / 64] & (1 << UInt64(cpu % 64)) != 0 }.count
            share += 1.0 / Double(max(holders, 1))
        }
        return max(1, Int(share + 1e-9))
    }
}

/// How the launcher bound this process, from the environment OpenMPI (4.x) gives its ranks.
package enum MPIBinding: Equatable {
    /// Not bound at launch (no mpirun, `--bind-to none`, oversubscribed, or another launcher).
    case none
    /// Bound by OpenMPI's default policy (core for 2 ranks or fewer, socket above).
    case openMPIDefault
    /// Bound as asked (`--bind-to ...`, `--map-by ...:PE=N`, or an MCA parameter).
    case explicit

    package init(environment env: [String: String]) {
        guard env["OMPI_MCA_orte_bound_at_launch"] == "1" else { self = .none; return }
        let policy = env["OMPI_MCA_hwloc_base_binding_policy"]
        let mapping = env["OMPI_MCA_rmaps_base_mapping_policy"] ?? ""
        self = policy == nil && !mapping.uppercased().contains("PE=") ? .openMPIDefault : .explicit
    }
}
