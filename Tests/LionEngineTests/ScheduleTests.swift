import XCTest
import LionEngine

final class ScheduleTests: XCTestCase {
    func close(_ a: Float, _ b: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: max(abs(b), 1e-12) * 1e-6, file: file, line: line)
    }

    func testWarmup() {
        for kind in ScheduleKind.allCases {
            let s = LRSchedule(kind: kind, baseLR: 1e-3, warmupSteps: 10, totalSteps: 110, minLR: 1e-5)
            close(s.lr(atStep: 0), 1e-4)          // warmup start: base/warmup
            close(s.lr(atStep: 4), 5e-4)
            close(s.lr(atStep: 9), 1e-3)          // warmup end: base
        }
    }

    func testConstant() {
        let s = LRSchedule(kind: .constant, baseLR: 2e-4, warmupSteps: 0, totalSteps: 100, minLR: 0)
        XCTAssertEqual(s.lr(atStep: 0), 2e-4)
        XCTAssertEqual(s.lr(atStep: 1_000_000), 2e-4)
    }

    func testCosine() {
        let s = LRSchedule(kind: .cosine, baseLR: 1e-3, warmupSteps: 10, totalSteps: 110, minLR: 1e-5)
        close(s.lr(atStep: 10), 1e-3)                       // start of decay
        close(s.lr(atStep: 60), (1e-3 + 1e-5) / 2)          // mid: halfway between base and min
        close(s.lr(atStep: 35), 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + Float(cos(Double.pi / 4))))
        close(s.lr(atStep: 110), 1e-5)                      // floor at totalSteps
        close(s.lr(atStep: 500), 1e-5)                      // and after
    }

    func testRsqrt() {
        let s = LRSchedule(kind: .rsqrt, baseLR: 1e-3, warmupSteps: 100, totalSteps: 0, minLR: 2e-4)
        close(s.lr(atStep: 100), 1e-3)
        close(s.lr(atStep: 400), 5e-4)                      // base * sqrt(100/400)
        close(s.lr(atStep: 2500), 2e-4)                     // base * sqrt(100/2500) = 2e-4
        close(s.lr(atStep: 10_000), 2e-4)                   // floored (1e-4 < min)
        let noWarmup = LRSchedule(kind: .rsqrt, baseLR: 1, warmupSteps: 0, totalSteps: 0, minLR: 0)
        close(noWarmup.lr(atStep: 0), 1)
        close(noWarmup.lr(atStep: 4), 0.5)
    }

    func testClipScale() {
        XCTAssertEqual(clipScale(globalNorm: 10, maxNorm: 0), 1, "maxNorm 0 is off")
        XCTAssertEqual(clipScale(globalNorm: 10, maxNorm: -1), 1)
        XCTAssertEqual(clipScale(globalNorm: 0.5, maxNorm: 1), 1, "below the max: no clip")
        XCTAssertEqual(clipScale(globalNorm: 4, maxNorm: 1), Float(1 / (4 + 1e-6)))
    }
}
