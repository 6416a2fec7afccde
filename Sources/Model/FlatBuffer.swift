#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A zero-initialized, 64-byte aligned Float buffer (one cache line, one AVX-512 vector),
/// allocated with posix_memalign and freed in deinit. Layers and optimizer state are
/// views (offsets) into buffers like this; the owner must outlive every pointer it hands out.
public final class FlatBuffer {
    public static let alignment = 64
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0, "FlatBuffer count must be >= 0")
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let rc = posix_memalign(&raw, FlatBuffer.alignment, bytes)
        guard rc == 0, let raw else { fatalError("posix_memalign(\(bytes) bytes) failed: \(rc)") }
        memset(raw, 0, bytes)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { free(pointer) }

    public var bytes: Int { count * MemoryLayout<Float>.stride }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// Sets every element to zero.
    public func zero() { memset(pointer, 0, bytes) }
}
