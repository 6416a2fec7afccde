import Collectives
import Foundation
import XCTest

/// The typed collectives in one process (MPI as a singleton, W = 1): what goes in comes back
/// bit for bit, in its own type, at the extremes of each type. The multi-rank paths run under
/// mpirun in MultiRankTests (GatherTests).
final class TypedGatherTests: XCTestCase {
    static let world: Communicator = {
        try! MPIRuntime.initialize()
        return try! Communicator.world()
    }()

    func testInt64sComeBackUnchanged() throws {
        let values: [Int64] = [.min, -1, 0, 1, 0x0102_0304_0506_0708, .max]
        XCTAssertEqual(try Self.world.allgather(values), [values])
    }

    func testUInt64MasksComeBackUnchanged() throws {
        let masks: [UInt64] = [.max, 1 << 63, 0x0123_4567_89AB_CDEF, 0]
        XCTAssertEqual(try Self.world.allgather(masks), [masks])
    }

    func testStringsAreCutToTheirCapacity() throws {
        XCTAssertEqual(try Self.world.allgather("node-7", capacity: 64), ["node-7"])
        XCTAssertEqual(try Self.world.allgather("", capacity: 64), [""])
        let long = String(repeating: "h", count: 70)
        XCTAssertEqual(try Self.world.allgather(long, capacity: 64), [String(repeating: "h", count: 63)])
    }

    /// A read past the end of a file is an `MPIShortfall` naming the call, the counts and why.
    func testShortReadIsAShortfall() throws {
        let path = NSTemporaryDirectory() + "collectives-short-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: path))
        let file = try MPIFile(comm: Self.world, path: path, mode: .readOnly)
        defer { try? file.close() }
        XCTAssertEqual(try file.readAt(offset: 1, count: 4), [2, 3, 4, 5])
        XCTAssertThrowsError(try file.readAt(offset: 3, count: 8)) { error in
            guard let shortfall = error as? MPIShortfall else { return XCTFail("not an MPIShortfall: \(error)") }
            XCTAssertEqual(shortfall.call, "MPI_File_read_at(\(path))")
            XCTAssertEqual(shortfall.problem, "read 2 of 8 bytes at byte 3 (the file ends first)")
        }
    }
}
