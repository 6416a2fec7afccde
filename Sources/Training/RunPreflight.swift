import Checkpoint
import Collectives
import Foundation
import RankProcess
#if canImport(Glibc)
import Glibc
#endif

/// What a run holds from its first step to its end: the lock on the checkpoint directory (rank
/// 0) and the SIGTERM/SIGINT handlers. `end()` gives both back.
final class RunGuard {
    private let lock: CheckpointLock?

    init(lock: CheckpointLock?) { self.lock = lock }

    func end() {
        lock?.release()
        StopSignal.uninstall()
    }
}

extension Trainer {
    /// Before step 1, so that no run fails at its end for a path it could have checked at its
    /// start: rank 0 probes `--save-params` and creates and locks `--checkpoint`; every rank
    /// checks that it sees the checkpoint directory writable (MPI-IO writes from every rank).
    /// One line and a non-zero exit on every rank for the first problem. Collective.
    func preflight() throws -> RunGuard {
        let lock = try comm.agree { () throws -> CheckpointLock? in
            guard isRoot else { return nil }
            if let path = config.saveParamsPath { try OutputPath.checkWritableFile(path, flag: "--save-params") }
            return try config.checkpoint.directory.map { try CheckpointLock.acquire(directory: $0) }
        }
        if let dir = config.checkpoint.directory {
            let rank = comm.rank
            try comm.agree { try OutputPath.checkVisibleDirectory(dir, rank: rank) }
        }
        StopSignal.install()
        return RunGuard(lock: lock)
    }
}
