import Checkpoint
import Foundation
import RankProcess
import Training
#if canImport(Glibc)
import Glibc
#endif

/// The test hooks the multi-rank tests set through the environment, read once here and handed
/// down as values, so that no module below the command line reads the environment for them:
/// `LION_DIST_NODE_KEY` (ranks with the same key form a node), `LION_DIST_FAULT_*` (the loop's
/// faults), `LION_DIST_TEST_*` (checkpoint faults), `LION_DIST_SIGNVOTE_DUMP` (sign-vote's
/// gradients to a directory) and `LION_DIST_BF16_DUMP` (the GPT's bf16 parameter copy). A normal run sets none.
enum TestEnvironment {
    static let values = ProcessInfo.processInfo.environment

    /// `LION_DIST_NODE_KEY`, for `Topology(world:nodeKey:)`.
    static var nodeKey: Int? { values["LION_DIST_NODE_KEY"].flatMap { Int($0) } }

    /// A run's config with the hooks the environment asks for.
    static func apply(to config: inout TrainConfig) {
        config.faults = FaultInjection(environment: values)
        config.checkpoint.hooks = CheckpointTestHooks(environment: values)
        config.voteDumpDirectory = values["LION_DIST_SIGNVOTE_DUMP"]
        config.bf16DumpDirectory = values["LION_DIST_BF16_DUMP"]
    }
}

/// Reads the process environment (the launcher's rank hints) for the command line.
enum ProcessEnv {
    static func string(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    static func int(_ name: String) -> Int? {
        string(name).flatMap { Int($0) }
    }

    /// The world rank as the launcher announces it before MPI_Init (OpenMPI, PMI, SLURM);
    /// 0 when run without a launcher. Used to print argument errors once, not once per rank.
    static var launcherRank: Int {
        int("OMPI_COMM_WORLD_RANK") ?? int("PMI_RANK") ?? int("PMIX_RANK") ?? int("SLURM_PROCID") ?? 0
    }
}
