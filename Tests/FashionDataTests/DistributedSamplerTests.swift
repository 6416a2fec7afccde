import XCTest
import FashionData

final class DistributedSamplerTests: XCTestCase {
    func testPermutationIsAPermutation() {
        let s = DistributedSampler(datasetSize: 1000, globalBatch: 100, rank: 0, worldSize: 4, seed: 42)
        let p = s.permutation(epoch: 0)
        XCTAssertEqual(p.count, 1000)
        XCTAssertEqual(p.sorted(), (0..<1000).map { Int32($0) })
        XCTAssertNotEqual(p, (0..<1000).map { Int32($0) })
    }

    func testDeterministicPerSeedAndEpoch() {
        let a = DistributedSampler(datasetSize: 500, globalBatch: 50, rank: 0, worldSize: 2, seed: 7)
        let b = DistributedSampler(datasetSize: 500, globalBatch: 50, rank: 1, worldSize: 2, seed: 7)
        let c = DistributedSampler(datasetSize: 500, globalBatch: 50, rank: 0, worldSize: 2, seed: 8)
        XCTAssertEqual(a.permutation(epoch: 3), a.permutation(epoch: 3))
        XCTAssertEqual(a.permutation(epoch: 3), b.permutation(epoch: 3), "every rank must agree")
        XCTAssertNotEqual(a.permutation(epoch: 0), a.permutation(epoch: 1))
        XCTAssertNotEqual(a.permutation(epoch: 0), c.permutation(epoch: 0))
    }

    func testStepsAndLocalBatch() {
        let s = DistributedSampler(datasetSize: 60_000, globalBatch: 4096, rank: 3, worldSize: 4, seed: 0)
        XCTAssertEqual(s.stepsPerEpoch, 14)
        XCTAssertEqual(s.localBatch, 1024)
    }

    func testRankSlicesPartitionTheGlobalBatch() {
        let size = 1003, batch = 96, world = 3
        let samplers = (0..<world).map {
            DistributedSampler(datasetSize: size, globalBatch: batch, rank: $0, worldSize: world, seed: 123)
        }
        let perm = samplers[0].permutation(epoch: 5)
        XCTAssertEqual(samplers[0].stepsPerEpoch, 10)
        var seen = Set<Int32>()
        for step in 0..<samplers[0].stepsPerEpoch {
            let slices = samplers.map { $0.localIndices(perm, step: step) }
            for s in slices { XCTAssertEqual(s.count, batch / world) }
            let union = slices.flatMap { $0 }
            XCTAssertEqual(Set(union).count, batch, "rank slices are disjoint")
            XCTAssertEqual(union, Array(perm[step * batch..<(step + 1) * batch]), "rank slices tile the global batch in order")
            XCTAssertTrue(seen.isDisjoint(with: union), "steps do not repeat samples")
            seen.formUnion(union)
        }
        XCTAssertEqual(seen.count, 10 * batch)
    }
}
