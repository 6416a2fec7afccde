import Foundation

/// Random-access bytes of one checkpoint file: a plain file (inspect, tests, the search for
/// an older valid checkpoint) or an MPI file (resume). Reads are exact: a short read throws.
public protocol CheckpointSource {
    var path: String { get }
    var size: Int { get }
    func read(offset: Int, count: Int) throws -> [UInt8]
}

/// A checkpoint on the local file system, read with a FileHandle.
public final class LocalCheckpointFile: CheckpointSource {
    public let path: String
    public let size: Int
    private let handle: FileHandle

    public init(path: String) throws {
        self.path = path
        if let problem = CheckpointDirectory.problem(reading: path) { throw CheckpointError(.io, problem) }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attrs[.size] as? NSNumber)?.intValue,
              let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError(.io, "cannot open for reading; check the path")
        }
        self.size = size
        self.handle = handle
    }

    deinit { try? handle.close() }

    public func read(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw CheckpointError(.truncated, "read of \(count) bytes at \(offset) runs past the end (\(size) bytes)")
        }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw CheckpointError(.truncated, "short read: \(data.count) of \(count) bytes at \(offset)")
            }
            return [UInt8](data)
        } catch let e as CheckpointError {
            throw e
        } catch {
            throw CheckpointError(.io, "read failed: \(error.localizedDescription)")
        }
    }
}

/// Reading and checking a checkpoint through any source.
public enum CheckpointVerifier {
    /// Reads and decodes the header: the prefix first, then only as many bytes as it announces
    /// (bounded by the file size and `maxHeaderBytes`).
    public static func header(of source: CheckpointSource) throws -> CheckpointHeader {
        let prefix = try source.read(offset: 0, count: min(source.size, CheckpointHeader.prefixBytes))
        let length = try CheckpointHeader.headerLength(prefix: prefix, fileSize: source.size)
        return try CheckpointHeader.decode(try source.read(offset: 0, count: length), fileSize: source.size)
    }

    /// Checks the CRC of each block in `blocks`; throws naming the first bad block.
    public static func verify(_ source: CheckpointSource, _ header: CheckpointHeader, blocks: some Sequence<Int>) throws {
        for b in blocks {
            let range = header.blockRange(b)
            let bytes = try source.read(offset: header.dataOffset + range.lowerBound, count: range.count)
            let crc = Checksums.crc32(bytes)
            if crc != header.blockCRCs[b] {
                throw CheckpointError(.checksum, "checksum mismatch in block \(b) of \(header.blockCount) "
                    + "(data bytes \(range.lowerBound)..<\(range.upperBound), \(header.regionName(of: range)))")
            }
        }
    }

    public struct Report {
        public let header: CheckpointHeader
        public let paramsDigest: String
        public let stateDigest: String
    }

    /// Verifies every block and computes the parameter and state digests in one pass.
    public static func fullCheck(_ source: CheckpointSource) throws -> Report {
        let header = try header(of: source)
        var params = FNV1a64(), state = FNV1a64()
        let paramBytes = header.parameterCount * 4
        for b in 0..<header.blockCount {
            let range = header.blockRange(b)
            let bytes = try source.read(offset: header.dataOffset + range.lowerBound, count: range.count)
            if Checksums.crc32(bytes) != header.blockCRCs[b] {
                try verify(source, header, blocks: [b])
            }
            let split = max(0, min(range.count, paramBytes - range.lowerBound))
            bytes.withUnsafeBytes { raw in
                params.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                state.update(UnsafeRawBufferPointer(rebasing: raw[split...]))
            }
        }
        return Report(header: header, paramsDigest: params.hex, stateDigest: state.hex)
    }
}
