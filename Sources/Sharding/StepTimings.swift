/// Seconds spent in each phase of one optimizer step on this rank.
public struct StepTimings: Sendable {
    public var combine: Double = 0   // gradient combine (allreduce or reduce-scatter)
    public var update: Double = 0    // norm pass + optimizer kernel on the shard
    public var gather: Double = 0    // parameter allgather

    public init() {}

    public static func += (lhs: inout StepTimings, rhs: StepTimings) {
        lhs.combine += rhs.combine
        lhs.update += rhs.update
        lhs.gather += rhs.gather
    }
}

/// What happened to one step.
public struct StepOutcome: Sendable {
    /// False when some rank's gradient held NaN or Inf: every rank skipped the update.
    public let applied: Bool
    /// The global L2 norm of the averaged gradient, before clipping.
    public let gradNorm: Double
    public let timings: StepTimings
}
