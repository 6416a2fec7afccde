import Layers
import XCTest

final class BatchSamplerTests: XCTestCase {
    /// Global step s's batch (the ranks' slices in rank order) is the same at W = 1, 2, 3, 4,
    /// across epochs.
    func testGlobalBatchDoesNotDependOnRanks() throws {
        let (count, batch) = (50, 12)   // 4 steps per epoch, 2 samples dropped
        let single = try BatchSampler(count: count, globalBatch: batch, rank: 0, ranks: 1, seed: 42)
        XCTAssertEqual(single.stepsPerEpoch, 4)
        for W in 2...4 {
            let samplers = try (0..<W).map { try BatchSampler(count: count, globalBatch: batch, rank: $0, ranks: W, seed: 42) }
            for step in 0..<10 {
                let slices = samplers.map { $0.indices(step: step) }
                XCTAssertTrue(slices.allSatisfy { $0.count == batch / W })
                XCTAssertEqual(slices.flatMap { $0 }, single.indices(step: step), "W = \(W), step \(step)")
            }
        }
    }

    /// Each epoch is a fresh permutation: no sample twice within an epoch, a different order
    /// the next epoch, another seed another order.
    func testShufflesPerEpoch() throws {
        let s = try BatchSampler(count: 40, globalBatch: 10, rank: 0, ranks: 1, seed: 1)
        let epoch0 = (0..<4).flatMap { s.indices(step: $0) }
        let epoch1 = (4..<8).flatMap { s.indices(step: $0) }
        XCTAssertEqual(Set(epoch0).count, 40)
        XCTAssertEqual(Set(epoch1), Set(0..<40))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertNotEqual(epoch0, Array(0..<40))
        XCTAssertEqual(s.epoch(of: 7), 1)
        XCTAssertEqual(s.indices(step: 1), Array(epoch0[10..<20]), "the same step gives the same indices again")
        let other = try BatchSampler(count: 40, globalBatch: 10, rank: 0, ranks: 1, seed: 2)
        XCTAssertNotEqual(other.indices(step: 0), s.indices(step: 0))
    }

    func testBadSettingsThrow() {
        XCTAssertThrowsError(try BatchSampler(count: 100, globalBatch: 10, rank: 0, ranks: 3, seed: 0)) {
            XCTAssertEqual("\($0)", "globalBatch 10 must be in 1...100 (the data set) and a multiple of the 3 ranks")
        }
        XCTAssertThrowsError(try BatchSampler(count: 5, globalBatch: 10, rank: 0, ranks: 1, seed: 0))
        XCTAssertThrowsError(try BatchSampler(count: 100, globalBatch: 10, rank: 2, ranks: 2, seed: 0))
    }

    /// The shares tile the evaluation set once, sizes within one of each other.
    func testEvaluationSplit() {
        for count in [0, 1, 7, 600] {
            for W in 1...5 {
                let shares = (0..<W).map { EvaluationSplit.share(of: count, rank: $0, ranks: W) }
                XCTAssertEqual(shares.first?.lowerBound, 0)
                XCTAssertEqual(shares.last?.upperBound, count)
                XCTAssertTrue(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                let sizes = shares.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
            }
        }
    }
}
