import XCTest
import LionEngine

final class ThreadPoolTests: XCTestCase {
    func testEveryIndexRunsExactlyOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            XCTAssertEqual(pool.threads, threads)
            for count in [0, 1, 2, 5, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                for _ in 0..<50 { pool.parallelFor(count) { hits[$0] += 1 } }
                for i in 0..<count { XCTAssertEqual(hits[i], 50, "threads \(threads) count \(count) index \(i)") }
                hits.deallocate()
            }
        }
    }

    func testPoolSurvivesIdleSleepAndWakes() {
        let pool = ThreadPool(threads: 2)
        var sum = 0
        let lock = NSLock()
        pool.parallelFor(4) { i in lock.lock(); sum += i; lock.unlock() }
        usleep(5_000)   // workers fall asleep after ~100 us of spinning
        pool.parallelFor(4) { i in lock.lock(); sum += i; lock.unlock() }
        XCTAssertEqual(sum, 12)
    }

    func testCoresAvailable() {
        XCTAssertGreaterThanOrEqual(CPUAffinity.coresAvailable(), 1)
    }
}
