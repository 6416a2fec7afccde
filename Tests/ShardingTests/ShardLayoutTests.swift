import Sharding
import XCTest

final class ShardLayoutTests: XCTestCase {
    func testShardsAreEqualAlignedAndCoverTheParameters() {
        for count in [1, 15, 16, 17, 29_425, 1_333_770] {
            for world in 1...7 {
                let layout = ShardLayout(count: count, worldSize: world)
                XCTAssertEqual(layout.shardCount % ShardLayout.alignment, 0)
                XCTAssertEqual(layout.paddedCount, layout.shardCount * world)
                XCTAssertGreaterThanOrEqual(layout.paddedCount, count)
                // Padding is less than one aligned unit per rank.
                XCTAssertLessThan(layout.padding, world * ShardLayout.alignment)
                var next = 0
                for r in 0..<world {
                    let range = layout.range(of: r)
                    XCTAssertEqual(range.lowerBound, next)
                    XCTAssertEqual(range.count, layout.shardCount)
                    next = range.upperBound
                }
                XCTAssertEqual(next, layout.paddedCount)
            }
        }
    }

    func testFourRanksOfTheDefaultModel() {
        let layout = ShardLayout(count: 1_333_770, worldSize: 4)
        XCTAssertEqual(layout.shardCount, 333_456)   // ceil(1333770/4) = 333443 -> next multiple of 16
        XCTAssertEqual(layout.padding, 54)
    }
}
