#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ShakespeareCorpus {
    /// Reads and checks `directory/shakespeare.txt`: it must exist, be a regular file of
    /// exactly `expectedBytes` bytes, hold only ASCII, and use exactly `expectedCharacters`
    /// distinct characters. Each failure is one line naming the file and the fix.
    public static func load(directory: String = defaultDirectory) throws -> ShakespeareCorpus {
        let dir = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let path = "\(dir)/\(fileName)"
        let bytes = try readFile(path: path, expectedBytes: expectedBytes)
        if let offset = bytes.firstIndex(where: { $0 >= 0x80 }) {
            throw TextDataError("\(path): byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset) is not ASCII, so this is not the prepared corpus; \(fix)")
        }
        let corpus = ShakespeareCorpus(bytes: bytes, path: path)
        guard corpus.vocabularySize == expectedCharacters else {
            throw TextDataError("\(path): uses \(corpus.vocabularySize) distinct characters, expected \(expectedCharacters), so this is not the prepared corpus; \(fix)")
        }
        return corpus
    }

    /// The bytes of the regular file at `path`, which must be exactly `expectedBytes` long
    /// (checked before anything is read, so a wrong file of any size costs nothing).
    static func readFile(path: String, expectedBytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "file not found" : "cannot open for reading (\(String(cString: strerror(errno))))"
            throw TextDataError("\(path): \(reason); \(fix)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw TextDataError("\(path): not a regular file; \(fix)")
        }
        let size = Int(info.st_size)
        guard size == expectedBytes else {
            let what = size < expectedBytes ? "truncated" : "too long"
            throw TextDataError("\(path): holds \(size) bytes, expected \(expectedBytes) (\(what)); \(fix)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { buffer -> Int in
            var got = 0
            while got < size {
                let n = read(fd, buffer.baseAddress! + got, size - got)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                got += n
            }
            return got
        }
        guard got == size else {
            throw TextDataError("\(path): read only \(got) of \(size) bytes (the file changed or is unreadable); \(fix)")
        }
        return bytes
    }
}
