import XCTest
import Foundation
import Basics
@testable import Model

/// Prints oneDNN bf16 against OpenBLAS sgemm (not a timed test: it asserts only that every
/// case ran and the two ways of splitting one product agree). A small run by default; the GPT's
/// shapes with LION_DIST_BF16_BENCH=full, best from a release build:
/// `swift build -c release --build-tests -Xswiftc -enable-testing &&
///  LION_DIST_BF16_BENCH=full swift test -c release --skip-build --filter BF16BenchmarkTests`
final class BF16BenchmarkTests: XCTestCase {
    var full: Bool { ProcessInfo.processInfo.environment["LION_DIST_BF16_BENCH"] == "full" }

    func testPrintBF16AgainstSGEMM() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let bench = full ? BF16MatmulBenchmark() : BF16MatmulBenchmark(shapes: [.init(M: 192, N: 160, K: 96)], repetitions: 1)
        let rows = bench.run()
        print("bf16 (oneDNN) vs fp32 (OpenBLAS) on \(CPUInfo.current.description), oneDNN ISA \(BF16Support.isaName)")
        print(BF16MatmulBenchmark.table(rows))
        XCTAssertEqual(rows.count, bench.shapes.count * 3 * bench.threads.count)
        for r in rows { XCTAssertTrue(r.bf16GFLOPS.isFinite && r.bf16GFLOPS > 0 && r.sgemmGFLOPS > 0) }
    }

    func testPrintThreadSplit() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let bench = BF16MatmulBenchmark(repetitions: full ? 7 : 1)
        let shapes = full ? BF16MatmulBenchmark.gptShapes : [.init(M: 192, N: 160, K: 96)]
        for s in shapes {
            for p in BF16MatmulBenchmark.Pattern.allCases {
                let r = bench.split(s, p)
                let g = r.flops * 1e-9
                print(String(format: "split %5d %5d %5d %@: GF/s (GF per CPU-s) 1 call x 2 OMP %.1f (%.1f), 2 threads x 1 OMP %.1f (%.1f), 1 thread %.1f (%.1f), max |diff| %g",
                             s.M, s.N, s.K, p.rawValue, g / r.oneCallTwoThreads, g / r.oneCallTwoThreadsCPU,
                             g / r.twoCallsOneThreadEach, g / r.twoCallsOneThreadEachCPU, g / r.oneThread, g / r.oneThreadCPU,
                             r.maxDifference))
                // Same products, another split over rows: the sums per element are the same, up to their order.
                XCTAssertLessThan(r.maxDifference, 1e-3 * Float(s.K).squareRoot())
            }
        }
    }
}
