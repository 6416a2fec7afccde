import Checkpoint
import XCTest

/// Each way a checkpoint file can be bad is refused with its own message by the same reader
/// `inspect` and the search for an older valid checkpoint use; the directory skips past it.
final class CorruptionTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func check(_ bytes: [UInt8]) throws -> CheckpointVerifier.Report {
        let path = dir + "/probe.lion"
        try Fixtures.write(bytes, to: path)
        return try CheckpointVerifier.fullCheck(try LocalCheckpointFile(path: path))
    }

    func refusal(_ bytes: [UInt8]) -> CheckpointError? {
        do { _ = try check(bytes); return nil } catch { return error as? CheckpointError }
    }

    func testEachCorruptionHasItsOwnMessage() throws {
        let (header, good) = Fixtures.image(Fixtures.identity(hidden: [37]), step: 10, blockSize: 4096)
        let report = try check(good)
        XCTAssertEqual(report.header, header)

        let truncated = refusal(Array(good.prefix(good.count - 100)))
        XCTAssertEqual(truncated?.kind, .truncated)
        XCTAssertTrue(truncated?.message.contains("truncated") ?? false, "\(String(describing: truncated))")

        var magic = good
        magic[0] = UInt8(ascii: "X")
        XCTAssertEqual(refusal(magic)?.kind, .badMagic)
        XCTAssertTrue(refusal(magic)!.message.contains("wrong magic"))

        var version = good
        version[8] = 9
        XCTAssertEqual(refusal(version)?.kind, .badVersion)
        XCTAssertTrue(refusal(version)!.message.contains("format version 9"))

        var data = good
        let block = 3
        data[header.dataOffset + block * 4096 + 17] ^= 0x40
        let bad = refusal(data)
        XCTAssertEqual(bad?.kind, .checksum)
        XCTAssertTrue(bad?.message.contains("checksum mismatch in block 3 of \(header.blockCount)") ?? false, "\(String(describing: bad))")
        XCTAssertTrue(bad?.message.contains("parameters") ?? false)

        var state = good
        state[header.dataOffset + header.parameterCount * 4 + 5] ^= 1
        XCTAssertTrue(refusal(state)?.message.contains("optimizer state m") ?? false)

        var field = good
        field[20] ^= 1   // classes: covered by the header CRC
        XCTAssertTrue(refusal(field)?.message.contains("header checksum mismatch") ?? false)

        XCTAssertEqual(refusal([])?.kind, .truncated)
    }

    func testDigestsDoNotDependOnBlockSize() throws {
        let id = Fixtures.identity(hidden: [37])
        let a = try check(Fixtures.image(id, step: 3, blockSize: 4096).1)
        let b = try check(Fixtures.image(id, step: 3, blockSize: 1 << 20).1)
        XCTAssertEqual(a.paramsDigest, b.paramsDigest)
        XCTAssertEqual(a.stateDigest, b.stateDigest)
        let c = try check(Fixtures.image(id, step: 4).1)
        XCTAssertNotEqual(a.paramsDigest, c.paramsDigest)
    }

    func testDirectoryFindsTheNewestValidAndPrunes() throws {
        let d = CheckpointDirectory(path: dir)
        let id = Fixtures.identity(hidden: [7])
        for step in [10, 20, 30] { try Fixtures.write(Fixtures.image(id, step: step).1, to: d.finalPath(step: step)) }
        var broken = Fixtures.image(id, step: 30).1
        broken[broken.count - 1] ^= 1
        try Fixtures.write(broken, to: d.finalPath(step: 30))
        try Fixtures.write([1, 2, 3], to: d.temporaryPath(step: 40))
        XCTAssertEqual(d.checkpoints().map(\.step), [30, 20, 10], "temporary files are not checkpoints")
        XCTAssertEqual(d.newestValid(), d.finalPath(step: 20))
        XCTAssertEqual(d.newestValid(below: 20), d.finalPath(step: 10))
        d.prune(keep: 2)
        XCTAssertEqual(d.checkpoints().map(\.step), [30, 20])
        XCTAssertFalse(FileManager.default.fileExists(atPath: d.temporaryPath(step: 40)))
        XCTAssertEqual(CheckpointDirectory.step(ofFileName: "ckpt-00000300.lion"), 300)
        XCTAssertNil(CheckpointDirectory.step(ofFileName: ".ckpt-00000300.lion.tmp"))
        XCTAssertNil(CheckpointDirectory.step(ofFileName: "ckpt-x.lion"))
    }
}
