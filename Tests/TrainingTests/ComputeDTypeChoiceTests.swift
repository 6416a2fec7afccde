import Foundation
import Model
import RunSetup
import XCTest

/// `--compute-dtype auto`: bf16 only where it is native and its products measure at least
/// 1.25x sgemm's rate; the line says which and why.
final class ComputeDTypeChoiceTests: XCTestCase {
    func testAutoPicksBF16OnlyFromTheThresholdUp() {
        let zen4 = ComputeDTypeChoice.decide(refusal: nil, bf16FLOPS: 170e9, sgemmFLOPS: 77e9)
        XCTAssertEqual(zen4.dtype, .bf16)
        XCTAssertEqual(zen4.note, "compute dtype: bf16 (auto: oneDNN's bf16 products run at 2.21x fp32 sgemm's rate on this CPU "
                       + "(170 vs 77 GFLOP/s on one thread, measured now); --compute-dtype fp32 to run fp32)")
        // A Xeon with AVX512-BF16 and no AMX: native, but slower than sgemm.
        let xeon = ComputeDTypeChoice.decide(refusal: nil, bf16FLOPS: 75e9, sgemmFLOPS: 127e9)
        XCTAssertEqual(xeon.dtype, .fp32)
        XCTAssertEqual(xeon.note, "compute dtype: fp32 (auto: oneDNN's bf16 products run at 0.59x fp32 sgemm's rate on this CPU "
                       + "(75 vs 127 GFLOP/s on one thread, measured now), below 1.25x; --compute-dtype bf16 to run bf16)")
        XCTAssertEqual(ComputeDTypeChoice.decide(refusal: nil, bf16FLOPS: 125, sgemmFLOPS: 100).dtype, .bf16)
        XCTAssertEqual(ComputeDTypeChoice.decide(refusal: nil, bf16FLOPS: 124.9, sgemmFLOPS: 100).dtype, .fp32)
    }

    func testAutoRunsFP32WhereBF16WouldBeEmulatedWhateverTheRates() {
        let r = ComputeDTypeChoice.decide(refusal: "bf16 would be emulated on X: oneDNN's ISA is avx2", bf16FLOPS: 1e12, sgemmFLOPS: 1)
        XCTAssertEqual(r, .init(dtype: .fp32, note: "compute dtype: fp32 (auto: bf16 would be emulated on X: oneDNN's ISA is avx2)"))
    }

    func testPinnedChoicesSayNothing() throws {
        XCTAssertEqual(try ComputeDTypeChoice.fp32.resolve(world: nil), .init(dtype: .fp32, note: nil))
        XCTAssertEqual(try ComputeDTypeChoice.bf16.resolve(world: nil), .init(dtype: .bf16, note: nil))
    }

    /// On this CPU: the measured ratio in the line agrees with the dtype chosen, and the compute
    /// threads are as they were.
    func testAutoOnThisCPUChoosesByTheRatioItPrints() throws {
        let saved = ComputeThreads.count
        ComputeThreads.set(2)
        defer { ComputeThreads.set(saved) }
        let r = try ComputeDTypeChoice.auto.resolve(world: nil)
        XCTAssertEqual(ComputeThreads.count, 2)
        let note = try XCTUnwrap(r.note)
        XCTAssertTrue(note.hasPrefix("compute dtype: \(r.dtype.rawValue) (auto: "), note)
        if let refusal = BF16Support.refusalReason() {
            XCTAssertEqual(r.dtype, .fp32)
            XCTAssertTrue(note.contains(refusal), note)
            return
        }
        let match = try XCTUnwrap(note.firstMatch(of: #/run at ([0-9.]+)x fp32/#), note)
        let ratio = try XCTUnwrap(Double(match.1))
        XCTAssertGreaterThan(ratio, 0)
        // The line rounds the ratio to 0.01: at the threshold itself either choice is right.
        if abs(ratio - ComputeDTypeChoice.autoSpeedup) > 0.005 {
            XCTAssertEqual(r.dtype, ratio > ComputeDTypeChoice.autoSpeedup ? .bf16 : .fp32, note)
        }
    }
}
