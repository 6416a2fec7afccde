import Basics

/// The bf16 copy of a model's fp32 parameters that the bf16 products read (`BF16Products`):
/// element i is bf16(params[i]), rounded to nearest even (`BF16Convert`).
///
/// Two kinds:
/// - private (`init(count:)`): the workspace's own copy, refreshed at the start of every pass
///   (`refreshesPerPass`), 2 bytes per parameter per workspace;
/// - held elsewhere (`init(holding:count:owner:)`): memory its owner refreshes when the
///   parameters change, e.g. once per node in a node-shared window (the training run: each
///   rank narrows its slice after the step, so a node holds one copy, 2 bytes per parameter).
public final class BF16Weights {
    public let pointer: UnsafeMutablePointer<UInt16>
    public let count: Int
    /// True for a private copy: a pass narrows all of it first.
    public let refreshesPerPass: Bool
    /// Keeps the memory alive (an `AlignedBuffer`, or the owner's window).
    private let storage: AnyObject

    /// A private copy of `count` elements.
    public init(count: Int) {
        let buffer = AlignedBuffer<UInt16>(count: count)
        pointer = buffer.pointer
        self.count = count
        refreshesPerPass = true
        storage = buffer
    }

    /// `count` elements at `pointer`, kept mapped by `owner`, which refreshes them.
    public init(holding pointer: UnsafeMutablePointer<UInt16>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        refreshesPerPass = false
        storage = owner
    }

    /// Bytes a workspace holds for it: a private copy's, 0 when its owner accounts for them.
    public var privateBytes: Int { refreshesPerPass ? 2 * count : 0 }

    /// self[range] = bf16(params[range]), on the calling thread's compute threads.
    public func refresh(from params: UnsafePointer<Float>, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "bf16 weights hold \(count), asked for \(range)")
        BF16Convert.narrow(params + range.lowerBound, to: pointer + range.lowerBound, count: range.count)
    }

    /// The slice of [0, count) part `part` of `parts` refreshes: equal parts, each starting on a
    /// 64-byte line (32 elements), so no two writers share a cache line; they tile [0, count).
    public static func slice(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        precondition(parts >= 1 && part >= 0 && part < parts, "part \(part) of \(parts)")
        func start(_ p: Int) -> Int { p == parts ? count : min(count, (count * p / parts) / 32 * 32) }
        return start(part)..<start(part + 1)
    }
}
