/// Byte-array collectives for small control messages (paths, headers).
extension Communicator {
    /// Every rank passes an array of the same length; afterwards all hold `root`'s bytes.
    public func broadcastBytes(_ bytes: inout [UInt8], root: Int) throws {
        let n = bytes.count
        guard n > 0 else { return }
        try bytes.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: n, root: root) }
    }

    /// `root`'s string on every rank (at most `capacity - 1` UTF-8 bytes).
    public func broadcastString(_ text: String, root: Int, capacity: Int = 4096) throws -> String {
        var bytes = [UInt8](repeating: 0, count: capacity)
        if rank == root {
            let utf8 = Array(text.utf8.prefix(capacity - 1))
            bytes.replaceSubrange(0..<utf8.count, with: utf8)
        }
        try broadcastBytes(&bytes, root: root)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
