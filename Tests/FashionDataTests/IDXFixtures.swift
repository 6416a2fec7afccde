import CZlib
@testable import FashionData
import Foundation

/// Writes small synthetic IDX files (gzip via gzwrite, or plain) into a fresh temp directory.
final class IDXFixtures {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "idx-fixtures-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    static func bigEndian(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { w in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: w >> UInt32($0)) } }
    }

    static func imagesFile(count: Int, rows: Int, cols: Int, magic: UInt32 = 0x803, payload: [UInt8]? = nil) -> [UInt8] {
        let body = payload ?? (0..<count * rows * cols).map { UInt8(truncatingIfNeeded: $0 * 7) }
        return bigEndian([magic, UInt32(count), UInt32(rows), UInt32(cols)]) + body
    }

    static func labelsFile(_ labels: [UInt8], magic: UInt32 = 0x801, declared: Int? = nil) -> [UInt8] {
        bigEndian([magic, UInt32(declared ?? labels.count)]) + labels
    }

    /// Writes `bytes` gzip-compressed through zlib; returns the path.
    @discardableResult
    func writeGzip(_ name: String, _ bytes: [UInt8]) -> String {
        let path = dir + "/" + name
        let f = gzopen(path, "wb")!
        if !bytes.isEmpty {
            _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        }
        gzclose(f)
        return path
    }

    @discardableResult
    func writePlain(_ name: String, _ bytes: [UInt8]) -> String {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func read(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path)!) }
}

/// The message of the DataError thrown by `body`, or nil.
func dataErrorMessage<T>(_ body: () throws -> T) -> String? {
    do { _ = try body(); return nil } catch let e as DataError { return e.message } catch { return "unexpected \(error)" }
}

