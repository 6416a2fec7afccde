import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Test hooks of the loop, read once by the command line from its environment and handed down
/// (`TrainConfig.faults`); `.none` in every other run, where each costs a nil check per step.
///
/// - `LION_DIST_FAULT_NAN=STEP:RANK` writes a NaN into RANK's gradient of (0-based) global step
///   STEP; `STEP+:RANK` does so at every step from STEP on. The trainer calls it when backward
///   has finished the model's first segment (the last one it finishes), before that segment's
///   bucket goes to the combiner, so the fault reaches every combine path, overlapped buckets
///   included (a NaN written after backward would race with a bucket reduction already in
///   flight), and every model. Lets the tests drive the non-finite-gradient path.
/// - `LION_DIST_FAULT_THROW=RANK:step:N` makes RANK's backward throw in (0-based) step N, after
///   its last segment (so with overlap every other bucket is already handed off and the other
///   ranks wait in the combine); `RANK:eval:0` makes its evaluation throw.
/// - `LION_DIST_FAULT_STOP=RANK:N` makes RANK stop itself (SIGSTOP) at the start of (0-based)
///   step N, before its forward: a known point, so a test of the stall watchdog does not race
///   with the run.
public struct FaultInjection: Sendable {
    var nan: (step: Int, rank: Int, onward: Bool)? = nil
    var throwAt: (rank: Int, phase: String, step: Int)? = nil
    var stopAt: (rank: Int, step: Int)? = nil

    /// No faults: a normal run.
    public static let none = FaultInjection()

    init() {}

    /// The faults the `LION_DIST_FAULT_*` variables of `environment` ask for.
    public init(environment env: [String: String]) {
        nan = Self.parse(env["LION_DIST_FAULT_NAN"])
        if let parts = env["LION_DIST_FAULT_THROW"]?.split(separator: ":"), parts.count == 3,
           let rank = Int(parts[0]), let step = Int(parts[2]) {
            throwAt = (rank, String(parts[1]), step)
        }
        if let parts = env["LION_DIST_FAULT_STOP"]?.split(separator: ":"), parts.count == 2,
           let rank = Int(parts[0]), let step = Int(parts[1]) {
            stopAt = (rank, step)
        }
    }

    /// `STEP:RANK` or `STEP+:RANK`; nil (no fault) for anything else.
    package static func parse(_ text: String?) -> (step: Int, rank: Int, onward: Bool)? {
        guard let text else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2 else { return nil }
        let onward = parts[0].hasSuffix("+")
        guard let step = Int(parts[0].dropLast(onward ? 1 : 0)), let rank = Int(parts[1]) else { return nil }
        return (step, rank, onward)
    }

    /// Writes NaN into the gradient of flat element 0 (the first segment's first element) at
    /// the chosen steps and rank.
    package func poisonGradient(_ grads: GradientSink, step: Int, rank: Int) {
        guard let nan, nan.rank == rank, step == nan.step || (nan.onward && step >= nan.step) else { return }
        grads.at(0)[0] = .nan
    }

    struct Injected: Error, CustomStringConvertible {
        let description: String
    }

    package func throwIfAsked(at phase: String, _ step: Int, rank: Int) throws {
        guard let s = throwAt, s.rank == rank, s.phase == phase, s.step == step else { return }
        throw Injected(description: "injected failure in \(phase) \(step) (LION_DIST_FAULT_THROW)")
    }

    package func stopIfAsked(step: Int, rank: Int) {
        guard let s = stopAt, s.rank == rank, s.step == step else { return }
        raise(SIGSTOP)
    }
}
