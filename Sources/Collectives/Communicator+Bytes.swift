/// Byte-array and string collectives for small control messages (paths, flags, host names).
extension Communicator {
    /// Every rank passes an array of the same length; afterwards all hold `root`'s bytes.
    public func broadcastBytes(_ bytes: inout [UInt8], root: Int) throws {
        let n = bytes.count
        guard n > 0 else { return }
        try bytes.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: n, root: root) }
    }

    /// `root`'s string on every rank (at most `capacity - 1` UTF-8 bytes).
    public func broadcastString(_ text: String, root: Int, capacity: Int = 4096) throws -> String {
        var bytes = FixedWidthText.encode(rank == root ? text : "", capacity: capacity)
        try broadcastBytes(&bytes, root: root)
        return FixedWidthText.decode(bytes)
    }
}

/// A string in a zero-padded block of `capacity` bytes, as the string collectives send it
/// (every rank's block has the same size).
enum FixedWidthText {
    static func encode(_ text: String, capacity: Int) -> [UInt8] {
        let utf8 = Array(text.utf8.prefix(capacity - 1))
        return utf8 + [UInt8](repeating: 0, count: capacity - utf8.count)
    }

    static func decode(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
}
