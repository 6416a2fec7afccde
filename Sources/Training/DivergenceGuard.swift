import Foundation

/// Stops a run whose loss ran away with finite numbers (the NaN guard catches the rest).
///
/// The rule: the reference is the training loss of the first step this process ran (step 1 of
/// a fresh run: the untrained model's loss, log(classes) for a classifier, log(vocabulary) for a
/// language model; for a resumed run, its first step after the resume). The run has diverged when the
/// training loss stays above `factor` (10) x the reference for `trainChecks` (10) consecutive
/// steps, or an evaluation's loss is above it at `evalChecks` (2) consecutive evaluations. A NaN
/// loss counts as above. While any check is above the bound, no checkpoint is saved, so the
/// newest one (and `--keep`'s pruning) stays from before the divergence.
///
/// Every rank sees the same losses (summed over the ranks), so every rank stops at the same step.
struct DivergenceGuard {
    static let factor = 10.0
    static let trainChecks = 10
    static let evalChecks = 2

    private(set) var reference: Double?
    private var trainStreak = 0
    private var evalStreak = 0

    /// Some loss is above the bound now: do not save a checkpoint.
    var suspect: Bool { trainStreak > 0 || evalStreak > 0 }

    var bound: Double? { reference.map { $0 * Self.factor } }

    /// After each step, with its global mean training loss: why the run diverged, or nil.
    mutating func train(_ loss: Double, step: Int) -> String? {
        guard let bound else {
            if loss.isFinite && loss > 0 { reference = loss }
            return nil
        }
        trainStreak = loss <= bound ? 0 : trainStreak + 1
        guard trainStreak >= Self.trainChecks else { return nil }
        return String(format: "the training loss was above %g x the first step's (%.4g) for %d consecutive steps (at step %d: %.4g)",
                      Self.factor, reference!, trainStreak, step, loss)
    }

    /// After each evaluation, with its mean loss: why the run diverged, or nil.
    mutating func evaluation(_ loss: Double, step: Int) -> String? {
        guard let bound else { return nil }
        evalStreak = loss <= bound ? 0 : evalStreak + 1
        guard evalStreak >= Self.evalChecks else { return nil }
        return String(format: "the evaluation loss was above %g x the first step's training loss (%.4g) at %d consecutive evaluations (at step %d: %.4g)",
                      Self.factor, reference!, evalStreak, step, loss)
    }
}
