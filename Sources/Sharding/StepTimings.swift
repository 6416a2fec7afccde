/// Seconds spent in each phase of one optimizer step on this rank.
public struct StepTimings: Sendable {
    public var combine: Double = 0   // gradient combine (allreduce or reduce-scatter): its exposed part, after backward
                                     // and inside backward's bucket hand-offs (`handoff`)
    /// The part of `combine` done inside backward's bucket hand-offs (the trainer takes it out
    /// of the compute time it measures around backward).
    public var handoff: Double = 0
    public var update: Double = 0    // norm allreduce + optimizer kernel on the shard
    public var gather: Double = 0    // parameter allgather
    /// Communication in flight: from the first bucket's reduction start (during backward when
    /// overlapped, else the combine's start) to the end of the combine, plus the gather.
    public var commTotal: Double = 0
    /// Communication the step waited for: the combine (hand-offs during backward included), plus the gather.
    public var commExposed: Double = 0

    public init() {}

    public static func += (lhs: inout StepTimings, rhs: StepTimings) {
        lhs.combine += rhs.combine
        lhs.handoff += rhs.handoff
        lhs.update += rhs.update
        lhs.gather += rhs.gather
        lhs.commTotal += rhs.commTotal
        lhs.commExposed += rhs.commExposed
    }

    /// Every field divided by `n` (means per step).
    public func scaled(by factor: Double) -> StepTimings {
        var t = self
        t.combine *= factor
        t.handoff *= factor
        t.update *= factor
        t.gather *= factor
        t.commTotal *= factor
        t.commExposed *= factor
        return t
    }
}

/// What happened to one step.
public struct StepOutcome: Sendable {
    /// False when some rank's gradient held NaN or Inf: every rank skipped the update.
    public let applied: Bool
    /// The global L2 norm of the averaged gradient, before clipping.
    public let gradNorm: Double
    public let timings: StepTimings
    /// Cautious Lion: the fraction of the model's elements whose update sign disagreed with
    /// the gradient (scaled by the factor, not 1) this step; nil otherwise.
    public var maskedFraction: Double? = nil

    public init(applied: Bool, gradNorm: Double, timings: StepTimings, maskedFraction: Double? = nil) {
        self.applied = applied
        self.gradNorm = gradNorm
        self.timings = timings
        self.maskedFraction = maskedFraction
    }
}
