/// Little-endian encoding of header fields. The reader never reads past the end of its bytes:
/// every read checks the remaining length first and throws a `CheckpointError` naming the field.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func raw(_ v: [UInt8]) { bytes += v }

    /// Overwrites 4 bytes at `offset` (for the header length, known once the body is written).
    mutating func patchU32(_ v: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    private mutating func take(_ n: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else {
            throw CheckpointError.header("field '\(field)' runs past the end of the header (\(bytes.count) bytes)")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }

    mutating func u8(_ field: String) throws -> UInt8 { try take(1, field).first! }

    mutating func u32(_ field: String) throws -> UInt32 {
        try take(4, field).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        try take(8, field).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A u64 that must lie in `range` (counts, steps, offsets): absurd values are refused here.
    mutating func int(_ field: String, in range: ClosedRange<Int>) throws -> Int {
        let raw = try u64(field)
        guard raw <= UInt64(Int.max), range.contains(Int(raw)) else {
            throw CheckpointError.header("field '\(field)' is \(raw), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(raw)
    }

    /// A u32 count that must lie in `range`.
    mutating func count(_ field: String, in range: ClosedRange<Int>) throws -> Int {
        let raw = Int(try u32(field))
        guard range.contains(raw) else {
            throw CheckpointError.header("field '\(field)' is \(raw), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return raw
    }

    mutating func f32(_ field: String) throws -> Float { Float(bitPattern: try u32(field)) }
    mutating func f64(_ field: String) throws -> Double { Double(bitPattern: try u64(field)) }
}
