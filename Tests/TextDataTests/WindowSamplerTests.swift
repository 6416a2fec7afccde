import XCTest
import TextData

final class WindowSamplerTests: XCTestCase {
    func testTrainWindowsAreSlicesOfTheTrainingSplit() {
        let corpus = syntheticCorpus(count: 5_000)
        let blockSize = 16
        for step in [0, 1, 7, 1000] {
            let batch = corpus.trainBatch(step: step, firstRow: 3, rows: 5, blockSize: blockSize, seed: 42)
            XCTAssertEqual(batch.count, 5 * (blockSize + 1))
            for r in 0..<5 {
                let start = corpus.trainWindowStart(step: step, row: 3 + r, blockSize: blockSize, seed: 42)
                XCTAssertTrue(start >= 0 && start + blockSize + 1 <= corpus.train.count, "start \(start)")
                XCTAssertEqual(Array(batch[r * (blockSize + 1)..<(r + 1) * (blockSize + 1)]),
                               Array(corpus.train[start..<start + blockSize + 1]))
            }
        }
    }

    func testStartsCoverEveryPossibleStartUniformly() {
        let corpus = syntheticCorpus(count: 100)   // train: 90 tokens
        let blockSize = 9                          // starts 0...80: 81 of them
        var hits = [Int](repeating: 0, count: corpus.train.count)
        for step in 0..<200 {
            for row in 0..<81 {
                hits[corpus.trainWindowStart(step: step, row: row, blockSize: blockSize, seed: 1)] += 1
            }
        }
        let possible = corpus.train.count - blockSize
        XCTAssertEqual(hits[possible...].reduce(0, +), 0, "a window would run past the split")
        // 16,200 draws over 81 starts: 200 each expected, sd ~14.
        for (start, n) in hits[..<possible].enumerated() {
            XCTAssertTrue(n > 130 && n < 270, "start \(start) drawn \(n) times")
        }
    }

    func testGlobalBatchDoesNotDependOnTheNumberOfRanks() {
        let corpus = syntheticCorpus(count: 20_000)
        let blockSize = 32
        let rows = 12
        for step in [0, 5, 123] {
            let whole = corpus.trainBatch(step: step, firstRow: 0, rows: rows, blockSize: blockSize, seed: 42)
            for ranks in [2, 3, 4, 6] {
                let per = rows / ranks
                let joined = (0..<ranks).flatMap { r in
                    corpus.trainBatch(step: step, firstRow: r * per, rows: per, blockSize: blockSize, seed: 42)
                }
                XCTAssertEqual(joined, whole, "step \(step), \(ranks) ranks")
            }
        }
    }

    func testWindowsDependOnSeedStepAndRowOnly() {
        let corpus = syntheticCorpus(count: 1_000_000)
        let start = { (seed: UInt64, step: Int, row: Int) in
            corpus.trainWindowStart(step: step, row: row, blockSize: 64, seed: seed)
        }
        XCTAssertEqual(start(42, 3, 5), start(42, 3, 5))
        // Among a million starts, equal draws for different arguments would be a collision.
        let neighbours = [start(42, 3, 5), start(43, 3, 5), start(42, 4, 5), start(42, 3, 6), start(42, 5, 3)]
        XCTAssertEqual(Set(neighbours).count, neighbours.count, "\(neighbours)")
        XCTAssertNotEqual(corpus.trainBatch(step: 0, firstRow: 0, rows: 4, blockSize: 64, seed: 42),
                          corpus.trainBatch(step: 1, firstRow: 0, rows: 4, blockSize: 64, seed: 42))
    }

    func testValidationWindowsAreFixedAndSpreadOverTheSplit() {
        let corpus = syntheticCorpus(count: 10_000)   // validation: 1,000 tokens
        let blockSize = 19
        let count = 10
        let starts = (0..<count).map { corpus.validationWindowStart($0, count: count, blockSize: blockSize) }
        // From the first possible start (0) to the last (1000 - 20 = 980), evenly.
        XCTAssertEqual(starts, [0, 108, 217, 326, 435, 544, 653, 762, 871, 980])
        XCTAssertEqual(corpus.validationWindowStart(0, count: 1, blockSize: blockSize), 0)
        let all = corpus.validationWindows(lo: 0, hi: count, count: count, blockSize: blockSize)
        for (i, s) in starts.enumerated() {
            XCTAssertEqual(Array(all[i * 20..<(i + 1) * 20]), Array(corpus.validation[s..<s + 20]))
        }
        // Ranks splitting the index range get the same windows.
        let split = corpus.validationWindows(lo: 0, hi: 3, count: count, blockSize: blockSize)
            + corpus.validationWindows(lo: 3, hi: 3, count: count, blockSize: blockSize)
            + corpus.validationWindows(lo: 3, hi: 10, count: count, blockSize: blockSize)
        XCTAssertEqual(split, all)
    }

    func testRealCorpusWindows() throws {
        let corpus = try realCorpus()
        let blockSize = 64
        XCTAssertEqual(corpus.maxBlockSize, 505_719)
        // Pinned: the sampler must not change under a run's feet (resume, comparisons across versions).
        XCTAssertEqual((0..<4).map { corpus.trainWindowStart(step: 1, row: $0, blockSize: blockSize, seed: 42) },
                       [1_107_439, 3_980_289, 2_171_705, 1_591_059])
        let batch = corpus.trainBatch(step: 1, firstRow: 0, rows: 12, blockSize: blockSize, seed: 42)
        XCTAssertEqual(batch, corpus.trainBatch(step: 1, firstRow: 0, rows: 6, blockSize: blockSize, seed: 42)
                            + corpus.trainBatch(step: 1, firstRow: 6, rows: 6, blockSize: blockSize, seed: 42))
        XCTAssertTrue(batch.allSatisfy { Int($0) < corpus.vocabularySize })
        // 200 validation windows of 65 tokens over 505,720: start i = floor(i * 505,655 / 199),
        // about 2,541 apart, the last one ending the split.
        let starts = (0..<200).map { corpus.validationWindowStart($0, count: 200, blockSize: blockSize) }
        XCTAssertEqual(starts[0], 0)
        XCTAssertEqual(starts[1], 2_540)
        XCTAssertEqual(starts[100], 254_097)
        XCTAssertEqual(starts[199], 505_720 - 65)
        XCTAssertEqual(corpus.decode(corpus.validationWindows(lo: 199, hi: 200, count: 200, blockSize: blockSize)).suffix(10),
                       "[Exeunt.]\n")
    }
}
