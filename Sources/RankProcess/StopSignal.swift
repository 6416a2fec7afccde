import Basics
import Collectives
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The signal number of the first SIGTERM/SIGINT this process received, 0 for none. Written
/// by the signal handler (a lock-free atomic, so async-signal-safe), read by the loop.
private let pendingStop = Atomic<Int32>(0)

/// SIGTERM and SIGINT (Ctrl-C; a Slurm job at its time limit or preempted; mpirun forwarding
/// either): the first one lets every rank finish the current step; the ranks agree on it with
/// one small allreduce per step (`agreed(_:)`), so all stop after the same step, save a
/// checkpoint and exit together. A second signal stops the process at once (default action).
package enum StopSignal {
    /// Installs the handlers for one run and forgets any earlier signal.
    package static func install() {
        pendingStop.store(0, ordering: .relaxed)
        for sig in [SIGTERM, SIGINT] {
            signal(sig) { sig in
                if pendingStop.exchange(sig, ordering: .relaxed) != 0 {
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
            }
        }
    }

    /// Restores the default actions (the run is over).
    package static func uninstall() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }

    /// The signal any rank received, the same on every rank, or nil. Collective: one 8-byte
    /// allreduce (measured: see README, "What survives what").
    package static func agreed(_ comm: Communicator) throws -> Int32? {
        let sig = try comm.allreduceMax(Int64(pendingStop.load(ordering: .relaxed)))
        return sig == 0 ? nil : Int32(sig)
    }

    package static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        default: return "signal \(sig)"
        }
    }
}
