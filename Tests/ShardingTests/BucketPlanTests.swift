import Sharding
import XCTest

/// Buckets in backward order: layers last to first, grouped until a bucket holds at least
/// `bucketElements`; together they tile [0, paddedCount) without gap or overlap.
final class BucketPlanTests: XCTestCase {
    /// Layers of 100, 50, 30 and 20 elements at 0, 100, 150, 180; padded to 208.
    let layers = [0..<100, 100..<150, 150..<180, 180..<200]

    func testGroupsLayersFromTheLastUntilABucketIsFull() {
        let plan = BucketPlan(layers: layers, paddedCount: 208, bucketElements: 50)
        // Last layer (20) + padding (8) = 28 < 50: joined with the layer before it (58).
        XCTAssertEqual(plan.ranges, [150..<208, 100..<150, 0..<100])
        XCTAssertEqual(plan.closesBucket, [2, 1, 0, nil], "the last layer closes no bucket of its own")
    }

    func testEveryLayerItsOwnBucketWhenBucketsAreSmall() {
        let plan = BucketPlan(layers: layers, paddedCount: 208, bucketElements: 1)
        XCTAssertEqual(plan.ranges, [180..<208, 150..<180, 100..<150, 0..<100], "the first bucket covers the padding")
        XCTAssertEqual(plan.closesBucket, [3, 2, 1, 0])
    }

    func testOneBucketWhenBucketsAreLarge() {
        let plan = BucketPlan(layers: layers, paddedCount: 208, bucketElements: 10_000)
        XCTAssertEqual(plan.ranges, [0..<208], "the first layer always closes the last bucket")
        XCTAssertEqual(plan.closesBucket, [0, nil, nil, nil])
        let single = BucketPlan.single(paddedCount: 208)
        XCTAssertEqual(single.ranges, [0..<208])
        XCTAssertEqual(single.closesBucket, [0])
    }

    func testBucketsTileThePaddedBufferInBackwardOrder() {
        for size in [1, 7, 30, 51, 99, 100, 180, 209] {
            let plan = BucketPlan(layers: layers, paddedCount: 208, bucketElements: size)
            var hi = 208
            for r in plan.ranges {
                XCTAssertEqual(r.upperBound, hi, "size \(size): contiguous, descending")
                XCTAssertFalse(r.isEmpty, "size \(size)")
                hi = r.lowerBound
            }
            XCTAssertEqual(hi, 0, "size \(size): reaches 0")
            for (i, r) in plan.ranges.enumerated().dropLast() {
                XCTAssertGreaterThanOrEqual(r.count, size, "size \(size): bucket \(i) is full before it closes")
            }
            // A bucket closes at the layer where it begins, and buckets close in order.
            let closing = plan.closesBucket.enumerated().compactMap { l, b in b.map { (l, $0) } }
            XCTAssertEqual(closing.map(\.1).sorted(), Array(0..<plan.ranges.count))
            for (l, b) in closing { XCTAssertEqual(plan.ranges[b].lowerBound, layers[l].lowerBound, "size \(size)") }
        }
    }
}
