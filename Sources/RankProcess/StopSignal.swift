import Basics
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The signal number of the first SIGTERM/SIGINT this process received, 0 for none. Written
/// by the signal handler (a lock-free atomic, so async-signal-safe), read by the loop.
private let pendingStop = Atomic<Int32>(0)

/// SIGTERM and SIGINT (Ctrl-C; a Slurm job at its time limit or preempted; mpirun forwarding
/// either): the first one lets every rank finish the current step; the ranks agree on it in the
/// step's own scalar allreduce (`riders` ride with the loss sums and the gradient norm;
/// `agreed(_:)` reads the totals), so all stop after the same step, save a checkpoint and exit
/// together, at no extra collective. A second signal stops the process at once (default action).
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

    /// The signals the riders count, one rider each; `agreed` prefers the later one as
    /// allreduceMax of the signal numbers did (SIGTERM over SIGINT).
    private static let counted: [Int32] = [SIGTERM, SIGINT]

    /// This rank's stop flag as riders of the step's scalar allreduce: 1 for the signal it
    /// received (if any), 0 for the others.
    package static var riders: [Double] {
        let sig = pendingStop.load(ordering: .relaxed)
        return counted.map { $0 == sig ? 1 : 0 }
    }

    /// The signal any rank received, the same on every rank, or nil, from the `riders` summed
    /// over the ranks.
    package static func agreed(_ sums: ArraySlice<Double>) -> Int32? {
        precondition(sums.count == counted.count)
        return zip(counted, sums).filter { $0.1 > 0 }.map(\.0).max()
    }

    package static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        default: return "signal \(sig)"
        }
    }
}
