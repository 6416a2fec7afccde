import XCTest
@testable import LionEngine

final class CPUAffinityTests: XCTestCase {
    /// The affinity mask, counted independently: the kernel's own list in /proc/self/status.
    func testCoresAvailableIsTheAffinityMask() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        var cpus = 0
        for part in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            cpus += ends.count == 2 ? ends[1] - ends[0] + 1 : 1
        }
        XCTAssertGreaterThan(cpus, 0)
        XCTAssertEqual(CPUAffinity.coresAvailable(), cpus)
    }
}
