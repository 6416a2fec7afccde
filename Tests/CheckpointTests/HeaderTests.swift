import Checkpoint
import LionEngine
import XCTest

final class HeaderTests: XCTestCase {
    func testRoundTrip() throws {
        for kind in OptimizerKind.allCases {
            let (header, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12], optimizer: kind), step: 42, blockSize: 4096)
            let decoded = try CheckpointHeader.decode(file, fileSize: file.count)
            XCTAssertEqual(decoded, header)
            // The file keeps the code, the shape and the count; the words are the model's.
            XCTAssertEqual(decoded.identity.model.description, "another model (code 0, shape 784-37-12-10, \(header.parameterCount) parameters)")
            XCTAssertEqual(decoded.identity.model.described(like: header.identity.model).description, "MLP 784-37-12-10")
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
        b.model = Fixtures.mlp([256])
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

    /// A checkpoint read back has its model's code, shape and count but not its words: a run of
    /// the same family names it in its own words; one of another family is refused in one line.
    func testAnotherModelIsRefusedInOneLine() throws {
        let (header, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12]), step: 3, blockSize: 4096)
        let read = try CheckpointHeader.decode(file, fileSize: file.count).identity
        var run = header.identity
        run.model = ModelSignature(code: 1, shape: [84, 64, 4, 4, 128], parameterCount: header.parameterCount,
                                   words: "GPT {2} layers", flags: "--n-layer")
        let line = try XCTUnwrap(read.mismatch(against: run))
        XCTAssertEqual(line, "was written for another model (code 0, shape 784-37-12-10, \(header.parameterCount) parameters), this run is GPT 4 layers; pass the same --n-layer")
        run.model = Fixtures.mlp([37, 13])
        XCTAssertEqual(read.mismatch(against: run), "was written for MLP 784-37-12-10, this run is MLP 784-37-13-10; pass the same --hidden")
        XCTAssertNil(read.mismatch(against: header.identity))
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

/// Checkpoints written before cautious Lion (format version 2: no factor field) still read,
/// as plain Lion (factor 1), so a run resumes from them.
final class HeaderVersionTests: XCTestCase {
    /// Rewrites a version-3 file as version 2 wrote it: the same fields without the factor's 4
    /// bytes (after clip-norm), the header 4 bytes shorter, its CRC resealed, the data where it was.
    func versionTwo(_ file: [UInt8]) -> [UInt8] {
        let dims = Int(file[20])   // the dimension count after magic, version, length and model code
        let length = Int(UInt32(file[12]) | UInt32(file[13]) << 8 | UInt32(file[14]) << 16 | UInt32(file[15]) << 24)
        let factor = 16 + 4 + 4 + 4 * dims + 4 + 7 * 4
        var header = Array(file[0..<factor]) + Array(file[(factor + 4)..<(length - 4)])
        header[8] = 2; header[9] = 0; header[10] = 0; header[11] = 0
        let shorter = UInt32(length - 4)
        for i in 0..<4 { header[12 + i] = UInt8(truncatingIfNeeded: shorter >> (8 * UInt32(i))) }
        let crc = Checksums.crc32(header)
        for i in 0..<4 { header.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        return header + [0, 0, 0, 0] + Array(file[length...])
    }

    func testVersionTwoReadsAsPlainLion() throws {
        let (header, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12], optimizer: .lion), step: 42, blockSize: 4096)
        let old = versionTwo(file)
        XCTAssertEqual(old.count, file.count)
        let decoded = try CheckpointHeader.decode(old, fileSize: old.count)
        XCTAssertEqual(decoded.identity.optimizer.cautiousFactor, 1)
        XCTAssertEqual(decoded.identity, header.identity)
        XCTAssertEqual(decoded.position, header.position)
        XCTAssertEqual(decoded.dataOffset, header.dataOffset)
        XCTAssertEqual(decoded.blockCRCs, header.blockCRCs)
    }

    func testUnknownVersionsAreRefused() {
        let (_, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12]), step: 1, blockSize: 4096)
        for version: UInt8 in [1, 4] {
            var bad = file
            bad[8] = version
            XCTAssertThrowsError(try CheckpointHeader.decode(bad, fileSize: bad.count)) { error in
                XCTAssertTrue("\(error)".contains("format version \(version), this build reads versions 2-3"), "\(error)")
            }
        }
    }
}
