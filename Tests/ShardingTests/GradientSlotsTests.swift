import XCTest
@testable import Sharding

/// The staging slots of sharded gradients, on plain memory: which slot a bucket takes, that
/// its padding reads as zero whatever the slot held, and when a slot comes back.
final class GradientSlotsTests: XCTestCase {
    // Segments 0..<10, 10..<30, 30..<40 (40 real parameters), padded to 48; buckets of at
    // least 10 elements, last first: [30, 48), [10, 30), [0, 10). Largest: 20.
    let buckets = BucketPlan(layers: [0..<10, 10..<30, 30..<40], paddedCount: 48, bucketElements: 10)

    func withSlots(_ body: (GradientSlots, UnsafeMutablePointer<Float>) -> Void) {
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: GradientSlots.elements(buckets: buckets))
        defer { memory.deallocate() }
        memory.initialize(repeating: .nan, count: GradientSlots.elements(buckets: buckets))
        body(GradientSlots(buckets: buckets, count: 40, base: memory), memory)
    }

    func testBucketsTakeSlotsAndOffsetsWithinThem() {
        XCTAssertEqual(buckets.ranges, [30..<48, 10..<30, 0..<10])
        XCTAssertEqual(GradientSlots.elements(buckets: buckets), 3 * 20)
        XCTAssertFalse(GradientSlots.worthIt(buckets: buckets), "three slots of 20 hold more than 48")
        withSlots { slots, base in
            let first = slots.at(0)                     // bucket 2 asked first (a tied embedding)
            XCTAssertEqual(first, base)
            XCTAssertEqual(slots.at(5), base + 5, "same bucket, same slot")
            XCTAssertEqual(slots.at(30), base + 20, "bucket 0 takes the next slot")
            XCTAssertEqual(slots.at(12), base + 40 + 2, "bucket 1 the third")
        }
    }

    func testPaddingOfATakenSlotIsZeroWhateverItHeld() {
        withSlots { slots, base in
            let p = slots.at(30)                        // bucket 0: elements 30..<48, 40..<48 padding
            for i in 0..<10 { XCTAssertTrue(p[i].isNaN, "real elements are backward's to write") }
            for i in 10..<18 { XCTAssertEqual(p[i], 0, "padding element \(30 + i)") }
        }
    }

    func testRetiredSlotsComeBackAfterABarrierAndAtReset() {
        withSlots { slots, base in
            XCTAssertEqual(slots.at(30), base)          // bucket 0 in slot 0
            slots.retire(0)
            XCTAssertEqual(slots.at(10), base + 20)     // slot 0 not yet free: bucket 1 in slot 1
            slots.barrierPassed()
            slots.retire(1)
            base[5] = 7
            XCTAssertEqual(slots.at(0), base, "slot 0 free again after the barrier")
            XCTAssertEqual(slots.at(0)[5], 7, "a slot is not cleared for real elements")
            slots.reset()
            XCTAssertEqual(slots.at(30), base, "after reset the first bucket asked takes slot 0")
        }
    }
}
