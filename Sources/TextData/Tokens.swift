/// Token ids, read-only, wherever they live: in memory of their own (`init(_:)`) or in memory
/// someone else keeps alive (`init(base:count:owner:)`: a node-shared window, so every rank of
/// a node reads one copy of the corpus).
public struct Tokens: RandomAccessCollection, @unchecked Sendable {
    public let base: UnsafePointer<UInt16>
    public let count: Int
    /// Keeps the memory alive as long as any view of it.
    private let owner: AnyObject

    /// A copy of `ids` in memory of its own.
    public init<C: Collection>(_ ids: C) where C.Element == UInt16 {
        let storage = OwnedTokens(ids)
        self.init(base: storage.pointer, count: ids.count, owner: storage)
    }

    /// A view of `count` ids at `base`, valid as long as `owner` lives.
    public init(base: UnsafePointer<UInt16>, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> UInt16 {
        precondition(i >= 0 && i < count, "token index \(i) not in 0..<\(count)")
        return base[i]
    }

    /// Copies ids `start ..< start + n` to `out`.
    public func copy(from start: Int, count n: Int, to out: UnsafeMutablePointer<UInt16>) {
        precondition(start >= 0 && n >= 0 && start + n <= count, "tokens \(start)..<\(start + n) not in 0..<\(count)")
        out.update(from: base + start, count: n)
    }
}

private final class OwnedTokens {
    let pointer: UnsafeMutablePointer<UInt16>

    init<C: Collection>(_ ids: C) where C.Element == UInt16 {
        pointer = .allocate(capacity: max(ids.count, 1))
        _ = UnsafeMutableBufferPointer(start: pointer, count: ids.count).initialize(from: ids)
    }

    deinit { pointer.deallocate() }
}
