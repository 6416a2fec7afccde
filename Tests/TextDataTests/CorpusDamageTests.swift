import Foundation
import XCTest
import TextData

/// A damaged or missing corpus stops `load` with one line naming the file and the fix.
final class CorpusDamageTests: XCTestCase {
    private let fix = "run launch/setup (prepares the Shakespeare corpus) or pass --data-dir"

    private func loadError(_ dir: URL) -> String? {
        do {
            _ = try ShakespeareCorpus.load(directory: dir.path)
            return nil
        } catch {
            XCTAssertTrue(error is TextDataError, "\(type(of: error))")
            return "\(error)"
        }
    }

    private func write(_ bytes: [UInt8], in dir: URL) throws -> String {
        let file = dir.appendingPathComponent(ShakespeareCorpus.fileName)
        try Data(bytes).write(to: file)
        return file.path
    }

    func testMissingFile() throws {
        let dir = try temporaryDirectory(self)
        XCTAssertEqual(loadError(dir), "\(dir.path)/shakespeare.txt: file not found; \(fix)")
        // A trailing slash on --data-dir names the same file.
        XCTAssertEqual(loadError(URL(fileURLWithPath: dir.path + "/")), "\(dir.path)/shakespeare.txt: file not found; \(fix)")
    }

    func testDirectoryInPlaceOfTheFile() throws {
        let dir = try temporaryDirectory(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("shakespeare.txt"), withIntermediateDirectories: false)
        XCTAssertEqual(loadError(dir), "\(dir.path)/shakespeare.txt: not a regular file; \(fix)")
    }

    func testPristineCopyLoads() throws {
        let dir = try temporaryDirectory(self)
        _ = try write(try pristineCorpusBytes(), in: dir)
        XCTAssertNil(loadError(dir))
    }

    func testTruncatedCopy() throws {
        let dir = try temporaryDirectory(self)
        let path = try write(Array(try pristineCorpusBytes().prefix(1_000_000)), in: dir)
        XCTAssertEqual(loadError(dir), "\(path): holds 1000000 bytes, expected 5057198 (truncated); \(fix)")
    }

    func testOverlongCopy() throws {
        let dir = try temporaryDirectory(self)
        let path = try write(try pristineCorpusBytes() + Array("\n".utf8), in: dir)
        XCTAssertEqual(loadError(dir), "\(path): holds 5057199 bytes, expected 5057198 (too long); \(fix)")
    }

    func testNonASCIIByte() throws {
        let dir = try temporaryDirectory(self)
        var bytes = try pristineCorpusBytes()
        bytes[3_000_000] = 0xE9
        let path = try write(bytes, in: dir)
        XCTAssertEqual(loadError(dir), "\(path): byte 0xE9 at offset 3000000 is not ASCII, so this is not the prepared corpus; \(fix)")
        bytes[3_000_000] = 0x41
        bytes[17] = 0x80   // the smallest non-ASCII byte
        _ = try write(bytes, in: dir)
        XCTAssertEqual(loadError(dir), "\(path): byte 0x80 at offset 17 is not ASCII, so this is not the prepared corpus; \(fix)")
    }

    func testWrongNumberOfCharacters() throws {
        let dir = try temporaryDirectory(self)
        var bytes = try pristineCorpusBytes()
        bytes[42] = UInt8(ascii: "~")   // ASCII, but not one of the 84
        let path = try write(bytes, in: dir)
        XCTAssertEqual(loadError(dir), "\(path): uses 85 distinct characters, expected 84, so this is not the prepared corpus; \(fix)")
    }

    func testEveryMessageIsOneLine() throws {
        let dir = try temporaryDirectory(self)
        _ = try write(Array("short\n".utf8), in: dir)
        let message = try XCTUnwrap(loadError(dir))
        XCTAssertFalse(message.contains("\n"))
        XCTAssertTrue(message.hasPrefix(dir.path + "/shakespeare.txt: "))
        XCTAssertTrue(message.hasSuffix(fix))
    }
}
