@testable import Checkpoint
import DeterministicRandom
import XCTest

/// Many mutated headers fed to the reader: none may crash, hang, read out of bounds or
/// allocate wildly, and every one is refused. Two kinds: raw mutations (the header CRC must
/// catch each), and resealed ones whose CRC is recomputed, i.e. headers that lie consistently,
/// which reach every bounds check behind the CRC.
final class FuzzTests: XCTestCase {
    struct MemorySource: CheckpointSource {
        let bytes: [UInt8]
        var path: String { "memory" }
        var size: Int { bytes.count }
        func read(offset: Int, count: Int) throws -> [UInt8] {
            guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
                throw CheckpointError(.truncated, "out of bounds")
            }
            return Array(bytes[offset..<offset + count])
        }
    }

    struct Rng {
        var state: SplitMix64
        mutating func next() -> UInt64 { state.next() }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static let extremes: [UInt64] = [0, 1, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 40, UInt64(Int64.max), UInt64.max]

    func mutate(_ original: [UInt8], _ rng: inout Rng) -> [UInt8] {
        var b = original
        switch rng.below(6) {
        case 0:  // flip 1-4 random bits
            for _ in 0...rng.below(4) { let i = rng.below(b.count); b[i] ^= UInt8(1 << rng.below(8)) }
        case 1:  // a 4-byte field set to an extreme value
            let i = rng.below(b.count / 4) * 4
            let v = Self.extremes[rng.below(Self.extremes.count)]
            for k in 0..<4 where i + k < b.count { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 2:  // an 8-byte field (at any 4-byte boundary) set to an extreme value
            let i = rng.below(b.count / 4) * 4
            let v = Self.extremes[rng.below(Self.extremes.count)]
            for k in 0..<8 where i + k < b.count { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 3:  // truncated
            b = Array(b.prefix(rng.below(b.count)))
        case 4:  // random bytes over a range
            let i = rng.below(b.count), n = 1 + rng.below(16)
            for k in i..<min(b.count, i + n) { b[k] = UInt8(truncatingIfNeeded: rng.next()) }
        default:  // garbage inserted
            let i = rng.below(b.count)
            b.insert(contentsOf: (0..<(1 + rng.below(12))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
        }
        return b
    }

    /// Recomputes the header CRC over the length the (mutated) prefix announces, when it fits.
    func reseal(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 16 else { return bytes }
        let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        guard length >= 8, length <= bytes.count else { return bytes }
        var b = bytes
        let crc = Checksums.crc32(Array(b[0..<length - 4]))
        for k in 0..<4 { b[length - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        return b
    }

    func testMutatedHeadersAreRefused() throws {
        let (original, file) = Fixtures.image(Fixtures.identity(hidden: [37, 12], optimizer: .adamw), step: 99, blockSize: 4096)
        let headerBytes = Array(file.prefix(original.headerBytes))
        var rng = Rng(state: SplitMix64(seed: 2024))
        var refused = [CheckpointError.Kind: Int](), acceptedResealed = 0
        let rounds = 20_000
        for round in 0..<rounds {
            let resealed = round % 2 == 1
            var m = mutate(headerBytes, &rng)
            if resealed { m = reseal(m) }
            if m == headerBytes { continue }
            let fileSize = rng.below(4) == 0 ? rng.below(2 * file.count) : file.count
            do {
                let h = try CheckpointHeader.decode(m, fileSize: fileSize)
                // Only a consistently lying header gets here: it must describe exactly this
                // file (so no later read can leave it) and re-encode to the same bytes (no
                // ignored bits).
                XCTAssertTrue(resealed, "a raw mutation passed the header CRC: round \(round)")
                XCTAssertEqual(h.fileBytes, fileSize)
                XCTAssertEqual(h.encode(), Array(m.prefix(h.headerBytes)), "round \(round): lossy decode")
                // The rest of the reader refuses it: a block checksum or the run's identity.
                var whole = file
                whole.replaceSubrange(0..<h.headerBytes, with: m.prefix(h.headerBytes))
                let source = MemorySource(bytes: whole)
                if (try? CheckpointVerifier.verify(source, h, blocks: 0..<h.blockCount)) == nil {
                    refused[.checksum, default: 0] += 1
                } else if h.identity.mismatch(against: original.identity) != nil {
                    refused[.mismatch, default: 0] += 1
                } else {
                    // What no checksum can catch: a consistent lie in a field that only reports
                    // (the writer's W, the epoch's running loss) or a step counter that agrees
                    // with the others. Everything that shapes the data was refused above.
                    XCTAssertEqual(h.blockCRCs, original.blockCRCs)
                    XCTAssertEqual(h.identity, original.identity)
                    acceptedResealed += 1
                }
            } catch let e as CheckpointError {
                refused[e.kind, default: 0] += 1
                XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message)")
            }
        }
        XCTAssertLessThan(acceptedResealed, rounds / 20, "\(acceptedResealed) consistent lies accepted: \(refused)")
        for kind in [CheckpointError.Kind.badMagic, .badVersion, .badHeader, .truncated, .checksum, .mismatch] {
            XCTAssertGreaterThan(refused[kind, default: 0], 0, "no mutation was refused as \(kind): \(refused)")
        }
    }

    /// Lying fields, each set on purpose and resealed: every one refused with its own message.
    func testLyingFieldsAreRefusedBeforeAnyLargeRead() throws {
        let (original, file) = Fixtures.image(Fixtures.identity(hidden: [37]), step: 5, blockSize: 4096)
        let header = Array(file.prefix(original.headerBytes))
        func with(_ offset: Int, u32 v: UInt32) -> [UInt8] {
            var b = header
            for k in 0..<4 { b[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            return reseal(b)
        }
        let dimCountAt = 20, blockCountAt = original.headerBytes - 4 - 4 * original.blockCount - 8
        let cases: [([UInt8], String)] = [
            (with(12, u32: 0xFFFF_FFF0), "header length"),
            (with(dimCountAt, u32: 0xFFFF_FFFF), "dimCount"),
            (with(24, u32: 0), "dims[0]"),
            (with(16, u32: 7), "model code 7"),
            (with(blockCountAt, u32: 0x7FFF_FFFF), "blockCount"),
            (with(blockCountAt, u32: UInt32(original.blockCount + 1)), "blockCount"),
        ]
        for (bytes, needle) in cases {
            XCTAssertThrowsError(try CheckpointHeader.decode(bytes, fileSize: file.count)) { error in
                XCTAssertTrue("\(error)".contains(needle), "expected '\(needle)' in: \(error)")
            }
        }
        // Sizes past the end of the file: truncated, named as such.
        XCTAssertThrowsError(try CheckpointHeader.decode(header, fileSize: file.count - 1)) {
            XCTAssertEqual(($0 as? CheckpointError)?.kind, .truncated)
        }
    }
}
