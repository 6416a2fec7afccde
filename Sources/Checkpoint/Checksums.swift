import CZlib

/// CRC-32 (zlib) for blocks and the header; FNV-1a 64 for the W-independent digests.
public enum Checksums {
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32(0, $0) }
    }

    /// Continues `crc` over `bytes` (zlib's crc32 in chunks of at most 1 GiB).
    public static func crc32(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = UInt(crc)
        for offset in stride(from: 0, to: bytes.count, by: 1 << 30) {
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + (1 << 30))])
            c = CZlib.crc32(c, chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(chunk.count))
        }
        return UInt32(truncatingIfNeeded: c)
    }

    /// CRC of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine).
    public static func combine(_ a: UInt32, _ b: UInt32, lengthB: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(a), UInt(b), lengthB))
    }
}

/// FNV-1a, 64 bits, over a byte stream fed in any pieces: the same bytes give the same digest
/// however they are split (so the digest does not depend on W).
public struct FNV1a64 {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        value = h
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// 16 lowercase hex digits.
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
