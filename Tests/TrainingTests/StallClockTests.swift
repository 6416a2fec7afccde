import RankProcess
import XCTest

/// The watchdog reads the clock on its own thread while the main thread records progress: a
/// progress stamp later than the watchdog's reading is no idle time (it once trapped on the
/// unsigned subtraction, hours into a run).
final class StallClockTests: XCTestCase {
    func testProgressAfterTheWatchdogsReadingIsNoIdleTime() {
        XCTAssertEqual(StallWatchdog.seconds(from: 7_000_000_000, to: 6_999_999_999), 0)
        XCTAssertEqual(StallWatchdog.seconds(from: 5, to: 5), 0)
        XCTAssertEqual(StallWatchdog.seconds(from: 1_000_000_000, to: 3_500_000_000), 2.5)
    }
}
