import XCTest
@testable import Basics

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
        let pool = ThreadPool(threads: 3)
        var sum = 0
        let lock = NSLock()
        pool.parallelFor(4) { i in lock.lock(); sum += i; lock.unlock() }
        // Workers fall asleep after ~100 us of spinning; wait (up to 60 s: a loaded machine may
        // leave them unscheduled a while; the wait ends as soon as they sleep) until both do, so the
        // next job must go through the condition-variable wake.
        let deadline = Date().addingTimeInterval(60)
        while pool.sleepingWorkers < 2 && Date() < deadline { usleep(1_000) }
        XCTAssertEqual(pool.sleepingWorkers, 2, "idle workers never took the sleep path")
        pool.parallelFor(64) { i in lock.lock(); sum += i; lock.unlock() }
        XCTAssertEqual(sum, 6 + 64 * 63 / 2)
    }
}
