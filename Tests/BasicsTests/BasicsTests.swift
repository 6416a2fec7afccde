import Basics
import XCTest

final class BasicsTests: XCTestCase {
    func testAlignedBufferIsAlignedZeroedAndSized() {
        for n in [0, 1, 7, 17, 1000] {
            let f = AlignedBuffer<Float>(count: n)
            XCTAssertEqual(Int(bitPattern: f.pointer) % 64, 0)
            XCTAssertEqual(f.bytes, 4 * n)
            XCTAssertEqual(f.buffer.count, n)
            XCTAssertTrue(f.buffer.allSatisfy { $0 == 0 })
            let h = AlignedBuffer<UInt16>(count: n)
            XCTAssertEqual(Int(bitPattern: h.pointer) % 64, 0)
            XCTAssertEqual(h.bytes, 2 * n)
            XCTAssertTrue(h.buffer.allSatisfy { $0 == 0 })
        }
    }

    func testMedian() {
        XCTAssertEqual(median([3, 1, 2]), 2)
        XCTAssertEqual(median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(median([5]), 5)
        XCTAssertEqual(median([.nan, 7, .infinity, 1]), 4, "non-finite values are left out")
        XCTAssertTrue(median([]).isNaN)
        XCTAssertTrue(median([.nan]).isNaN)
    }
}
