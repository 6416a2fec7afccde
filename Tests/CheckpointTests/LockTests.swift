import Checkpoint
import Foundation
import XCTest

/// The directory lock (flock on DIR/.lion-dist.lock) and the path checks of a checkpoint to
/// read, on the real file system. flock locks belong to an open file, so a second acquire in
/// the same process conflicts exactly as a second run would.
final class LockTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testASecondHolderIsRefusedUntilTheFirstReleases() throws {
        let ckpt = dir + "/ckpt/nested"
        let first = try CheckpointLock.acquire(directory: ckpt)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ckpt + "/.lion-dist.lock"), "the directory is created")
        XCTAssertThrowsError(try CheckpointLock.acquire(directory: ckpt)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("--checkpoint \(ckpt) is in use by another run (pid \(getpid()) on "), message)
            XCTAssertTrue(message.contains("pass another --checkpoint dir"), message)
        }
        first.release()
        let again = try CheckpointLock.acquire(directory: ckpt)
        again.release()
        // The lock file is no checkpoint: the directory still lists none.
        XCTAssertTrue(CheckpointDirectory(path: ckpt).checkpoints().isEmpty)
    }

    func testAFileIsNoCheckpointDirectory() throws {
        let file = dir + "/plain"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        XCTAssertThrowsError(try CheckpointLock.acquire(directory: file)) {
            XCTAssertTrue("\($0)".contains("--checkpoint \(file) is a file, not a directory"), "\($0)")
        }
        XCTAssertThrowsError(try CheckpointLock.acquire(directory: file + "/sub")) {
            XCTAssertTrue("\($0)".contains("cannot create the directory"), "\($0)")
        }
    }

    func testWhatIsWrongWithAPathToRead() throws {
        let named = dir + "/ckpt-00000100.lion"
        try FileManager.default.createDirectory(atPath: named, withIntermediateDirectories: false)
        XCTAssertEqual(CheckpointDirectory.problem(reading: named), "is a directory, not a checkpoint file; pass a ckpt-<step>.lion file")
        XCTAssertEqual(CheckpointDirectory.problem(reading: dir + "/missing.lion"), "does not exist")
        let good = dir + "/good.lion"
        _ = FileManager.default.createFile(atPath: good, contents: Data("x".utf8))
        XCTAssertNil(CheckpointDirectory.problem(reading: good))
        XCTAssertThrowsError(try LocalCheckpointFile(path: named)) {
            XCTAssertTrue("\($0)".contains("is a directory"), "\($0)")
        }
    }
}
