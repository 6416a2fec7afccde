import Checkpoint
import LionEngine
import XCTest

final class HeaderTests: XCTestCase {
    func testRoundTrip() throws {
        for kind in OptimizerKind.allCases {
            let (header, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12], optimizer: kind), step: 42, blockSize: 4096)
            let decoded = try CheckpointHeader.decode(file, fileSize: file.count)
            XCTAssertEqual(decoded, header)
            XCTAssertEqual(decoded.identity.model.description, "MLP 784-37-12-10")
            XCTAssertEqual(decoded.stateBuffers, kind == .lion ? 1 : 2)
            XCTAssertEqual(decoded.dataOffset % 4096, 0)
            XCTAssertGreaterThan(decoded.blockCount, 10)
        }
    }

    /// Sign-vote: every writer rank's state, flagged in the byte that was reserved (0 before).
    func testPerRankStateRoundTrip() throws {
        var identity = Fixtures.identity(hidden: [37, 12])
        identity.perRankState = true
        let (header, file) = Fixtures.image(identity, step: 7, blockSize: 4096)
        let decoded = try CheckpointHeader.decode(file, fileSize: file.count)
        XCTAssertEqual(decoded, header)
        XCTAssertTrue(decoded.identity.perRankState)
        XCTAssertEqual(decoded.stateCopies, 3)
        let n = decoded.parameterCount
        XCTAssertEqual(decoded.dataBytes, n * 4 * 4)
        XCTAssertEqual(decoded.regionName(of: (n * 4 * 3)..<(n * 4 * 3 + 8)), "optimizer state m of rank 2")
        let sharded = Fixtures.identity(hidden: [37, 12])
        XCTAssertEqual(try CheckpointHeader.decode(Fixtures.image(sharded, step: 7).1, fileSize: Fixtures.image(sharded, step: 7).1.count).stateCopies, 1)
        XCTAssertTrue(identity.mismatch(against: sharded)!.contains("pass the same --comm"))
    }

    func testMismatchNamesTheFlag() {
        let a = Fixtures.identity(hidden: [1024, 512])
        XCTAssertNil(a.mismatch(against: a))
        var b = a
        b.model = .mlp(inputs: 784, hidden: [256], classes: 10)
        XCTAssertEqual(a.mismatch(against: b), "was written for MLP 784-1024-512-10, this run is MLP 784-256-10; pass the same --hidden")
        b = a
        b.optimizer = .defaults(for: .adamw)
        XCTAssertTrue(a.mismatch(against: b)!.contains("--optimizer lion, this run has adamw"))
        b = a
        b.optimizer.beta2 = 0.98
        XCTAssertTrue(a.mismatch(against: b)!.contains("--beta2"))
        b = a
        b.totalSteps = 400
        XCTAssertTrue(a.mismatch(against: b)!.contains("300 steps, this run has 400"))
        b = a
        b.warmupSteps = 40
        XCTAssertTrue(a.mismatch(against: b)!.contains("warm-up of 10 steps, this run has 40"))
        b = a
        b.totalSteps = 400
        b.schedule = .constant
        var c = a
        c.schedule = .constant
        XCTAssertNil(c.mismatch(against: b), "a constant schedule does not depend on the run's length")
    }

    func testBlockSizeGrowsForHugeModels() {
        XCTAssertEqual(CheckpointHeader.blockSize(forDataBytes: 10 << 20), 64 << 10)
        let huge = 1 << 40
        let size = CheckpointHeader.blockSize(forDataBytes: huge)
        XCTAssertLessThanOrEqual((huge + size - 1) / size, 1 << 20)
    }

    func testDigestDoesNotDependOnHowBytesAreSplit() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var whole = FNV1a64()
        whole.update(bytes)
        var parts = FNV1a64()
        parts.update(Array(bytes[0..<333]))
        parts.update(Array(bytes[333...]))
        XCTAssertEqual(whole.hex, parts.hex)
        XCTAssertEqual(whole.hex.count, 16)
    }

    func testCRCCombineMatchesWholeBlock() {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        let a = Checksums.crc32(Array(bytes[0..<1234])), b = Checksums.crc32(Array(bytes[1234...]))
        XCTAssertEqual(Checksums.combine(a, b, lengthB: bytes.count - 1234), Checksums.crc32(bytes))
    }
}
