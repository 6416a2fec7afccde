@testable import Checkpoint
import XCTest

/// A library user's model (`ModelSignature.custom`): its parameter count, split over two
/// header dimensions, and its shape integers survive the header; bad ones are refused.
final class CustomSignatureTests: XCTestCase {
    func testCustomSignatureRoundTrips() throws {
        for count in [1, 9, (1 << 24) - 1, 1 << 24, 3 << 30] {
            var identity = Fixtures.identity()
            identity.model = .custom(parameterCount: count, shape: [3, 1 << 24])
            let dataBytes = count * 4 * 2
            let blockSize = CheckpointHeader.blockSize(forDataBytes: dataBytes)
            let blocks = CheckpointHeader.blockCount(dataBytes: dataBytes, blockSize: blockSize)
            let header = CheckpointHeader(identity: identity, position: Fixtures.position(step: 5), writerWorldSize: 2,
                                          parameterCount: count, blockSize: blockSize,
                                          blockCRCs: [UInt32](repeating: 7, count: blocks))
            let decoded = try CheckpointHeader.decode(header.encode(), fileSize: header.fileBytes)
            XCTAssertEqual(decoded, header)
            XCTAssertEqual(decoded.identity.model, .custom(parameterCount: count, shape: [3, 1 << 24]))
            XCTAssertEqual(decoded.identity.model.parameterCount, count)
        }
        var other = Fixtures.identity()
        other.model = .custom(parameterCount: 9, shape: [2])
        var mine = other
        mine.model = .custom(parameterCount: 9, shape: [3])
        XCTAssertEqual(other.mismatch(against: mine),
                       "was written for custom model of 9 parameters, shape [2], this run is custom model of 9 parameters, shape [3]; pass the same model (its signature)")
    }

    func testBadCustomSignaturesThrow() {
        XCTAssertNoThrow(try ModelSignature.custom(parameterCount: 9, shape: [1]).validate())
        XCTAssertThrowsError(try ModelSignature.custom(parameterCount: 0, shape: [1]).validate())
        XCTAssertThrowsError(try ModelSignature.custom(parameterCount: 9, shape: [0]).validate())
        XCTAssertThrowsError(try ModelSignature.custom(parameterCount: 9, shape: [Int](repeating: 1, count: 65)).validate())
    }
}
