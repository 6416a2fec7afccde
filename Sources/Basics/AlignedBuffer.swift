/// A zeroed, 64-byte aligned buffer of `count` elements (one cache line, one AVX-512 vector),
/// freed when the last reference goes. The owner must outlive every pointer it hands out.
/// At least 64 bytes are allocated, so that a vector load at index 0 stays inside the
/// allocation even for an empty buffer.
///
/// ```swift
/// let g = AlignedBuffer<Float>(count: n)        // zeroed; g.pointer is 64-byte aligned
/// let m = AlignedBuffer<UInt16>(count: n)       // bf16 optimizer state
/// ```
public final class AlignedBuffer<Element: BitwiseCopyable> {
    public static var alignment: Int { 64 }
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>

    public init(count: Int) {
        precondition(count >= 0, "AlignedBuffer count must be >= 0, got \(count)")
        self.count = count
        let bytes = max(count * MemoryLayout<Element>.stride, Self.alignment)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: Element.self, capacity: bytes / MemoryLayout<Element>.stride)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// `count` elements' bytes (not the allocation's padding).
    public var bytes: Int { count * MemoryLayout<Element>.stride }

    public var buffer: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
