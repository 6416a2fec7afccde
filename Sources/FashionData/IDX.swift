import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Readers for the IDX format (big-endian header, then raw bytes), gzip-compressed or plain.
///
/// zlib's `gzread` reads plain files transparently, so both go through the same path.
/// Headers are never trusted: counts and sizes are bounded before anything is allocated,
/// the payload is read incrementally, and its length is checked against the header
/// (short files are "truncated", longer ones "has trailing bytes").
public enum IDX {
    /// Magic numbers: 0x08 = unsigned byte data, last byte = number of dimensions.
    public static let imagesMagic: UInt32 = 0x0000_0803
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Sanity bounds for a lying header (Fashion-MNIST: 60,000 images of 28x28 = 47 MB).
    public static let maxItems = 10_000_000
    public static let maxSide = 4096
    public static let maxPayloadBytes = 1 << 30

    static let reinstall = "reinstall with launch/setup"

    /// Reads an images file (magic 0x00000803): count, rows, cols, then count*rows*cols bytes.
    public static func readImages(path: String) throws -> (count: Int, rows: Int, cols: Int, bytes: [UInt8]) {
        let file = try GzipFile(path: path)
        try checkMagic(try file.readHeader(words: 1)[0], expected: imagesMagic, kind: "images", path: path)
        let header = try file.readHeader(words: 3)
        let (count, rows, cols) = (Int(header[0]), Int(header[1]), Int(header[2]))
        guard count <= maxItems, rows >= 1, cols >= 1, rows <= maxSide, cols <= maxSide,
              count * rows * cols <= maxPayloadBytes else {
            throw DataError("\(path): implausible header (\(count) images of \(rows)x\(cols)); \(reinstall)")
        }
        let expected = count * rows * cols
        let bytes = try file.readPayload(
            count: expected,
            what: "header says \(count) images of \(rows)x\(cols) (\(expected) bytes)")
        return (count, rows, cols, bytes)
    }

    /// Reads a labels file (magic 0x00000801): count, then count bytes.
    public static func readLabels(path: String) throws -> [UInt8] {
        let file = try GzipFile(path: path)
        try checkMagic(try file.readHeader(words: 1)[0], expected: labelsMagic, kind: "labels", path: path)
        let count = Int(try file.readHeader(words: 1)[0])
        guard count <= maxItems else {
            throw DataError("\(path): implausible header (\(count) labels); \(reinstall)")
        }
        return try file.readPayload(count: count, what: "header says \(count) labels (\(count) bytes)")
    }

    static func checkMagic(_ magic: UInt32, expected: UInt32, kind: String, path: String) throws {
        guard magic == expected else {
            throw DataError("\(path): bad magic \(hex(magic)), expected \(hex(expected)) (an IDX \(kind) file); \(reinstall)")
        }
    }

    static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}

/// A gzip (or plain) file open for reading; closed in deinit.
final class GzipFile {
    let path: String
    let handle: gzFile

    init(path: String) throws {
        self.path = path
        // ENOENT is "not found"; anything else (EACCES: a directory on the way without search
        // permission, ENOTDIR) is said as it is.
        if access(path, F_OK) != 0 {
            if errno == ENOENT {
                throw DataError("\(path): file not found; run launch/setup (installs dataset-fashion-mnist) or pass --data-dir")
            }
            throw DataError("\(path): cannot be reached (\(String(cString: strerror(errno)))); check the permissions of the --data-dir directory")
        }
        guard let handle = gzopen(path, "rb") else {
            throw DataError("\(path): cannot open for reading (\(String(cString: strerror(errno)))); check its permissions or pass --data-dir")
        }
        self.handle = handle
        gzbuffer(handle, 1 << 18)
    }

    deinit { gzclose(handle) }

    /// Reads up to `buffer.count` bytes into `buffer`; returns how many were read.
    /// Throws on a zlib error other than a stream that simply ends early.
    private func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var got = 0
        while got < buffer.count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[got..<min(buffer.count, got + (1 << 20))])
            let n = gzread(handle, chunk.baseAddress, UInt32(chunk.count))
            if n < 0 { throw corrupt() }
            if n == 0 {
                var errnum: Int32 = 0
                _ = gzerror(handle, &errnum)
                if errnum != Z_OK && errnum != Z_BUF_ERROR { throw corrupt() }
                break
            }
            got += Int(n)
        }
        return got
    }

    private func corrupt() -> DataError {
        var errnum: Int32 = 0
        let reason = gzerror(handle, &errnum).map { String(cString: $0) } ?? "unknown error"
        return DataError("\(path): not readable as gzip, corrupt data (zlib: \(reason)); \(IDX.reinstall)")
    }

    /// Reads `words` big-endian UInt32 header words.
    func readHeader(words: Int) throws -> [UInt32] {
        var raw = [UInt8](repeating: 0, count: 4 * words)
        let got = try raw.withUnsafeMutableBytes { try read(into: $0) }
        guard got == 4 * words else {
            throw DataError("\(path): truncated: the IDX header is cut short; \(IDX.reinstall)")
        }
        return (0..<words).map { i in
            raw[4 * i..<4 * i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }

    /// Reads exactly `count` payload bytes and checks that nothing follows them.
    func readPayload(count: Int, what: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        guard got == count else {
            throw DataError("\(path): truncated: \(what) but the file holds \(got); \(IDX.reinstall)")
        }
        // Reading past the end also verifies the gzip CRC and length trailer.
        var extra = [UInt8](repeating: 0, count: 4096)
        let more = try extra.withUnsafeMutableBytes { try read(into: $0) }
        guard more == 0 else {
            throw DataError("\(path): has trailing bytes: \(what) but the file holds more; \(IDX.reinstall)")
        }
        return bytes
    }
}
