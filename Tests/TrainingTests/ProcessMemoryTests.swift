import RankProcess
@testable import Training
import XCTest

/// /proc's kB fields: a tab after the colon, then the number padded to 8 columns, so from
/// 8 digits on (RSS of 9.5 GiB and more) no space separates them.
final class ProcessMemoryTests: XCTestCase {
    func testFieldsParseWithAndWithoutPadding() {
        let status = "Name:\tlion-dist\nVmHWM:\t10006460 kB\nVmRSS:\t  137012 kB\n"
        XCTAssertEqual(ProcessMemory.field("VmHWM:", inText: status), 10_006_460 * 1024)
        XCTAssertEqual(ProcessMemory.field("VmRSS:", inText: status), 137_012 * 1024)
        XCTAssertNil(ProcessMemory.field("VmSwap:", inText: status))
        let rollup = "Pss:              524288 kB\nPss_Anon:         262144 kB\nPss_Shmem:      12345678 kB\n"
        XCTAssertEqual(ProcessMemory.field("Pss_Shmem:", inText: rollup), 12_345_678 * 1024)
    }

    func testThisProcessHasAPeakRSS() {
        XCTAssertGreaterThan(ProcessMemory.peakRSSBytes(), 1 << 20)
    }
}
