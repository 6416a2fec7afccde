import Collectives

/// Combine work done inside backward's bucket hand-offs (`bucketReady`) in one step.
public struct Handoffs: Sendable {
    /// When the first hand-off's work started (MPIRuntime.time()).
    public let firstStart: Double
    /// Seconds spent in hand-off work, all buckets together.
    public let seconds: Double
}

/// Times a combiner's hand-off work; `take()` gives the step's total and starts the next.
struct HandoffClock {
    private var first: Double?
    private var seconds = 0.0

    mutating func time<T>(_ body: () throws -> T) rethrows -> T {
        let start = MPIRuntime.time()
        if first == nil { first = start }
        defer { seconds += MPIRuntime.time() - start }
        return try body()
    }

    mutating func take() -> Handoffs? {
        defer { first = nil; seconds = 0 }
        return first.map { Handoffs(firstStart: $0, seconds: seconds) }
    }
}
