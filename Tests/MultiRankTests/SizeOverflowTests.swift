import Foundation
import XCTest

/// Sizes derived from flags that do not fit in 64 bits: one line naming the flags, a non-zero
/// exit on every rank (before MPI for `plan`), never a trap (SIGILL, exit 132).
final class SizeOverflowTests: XCTestCase {
    func assertOneLine(ranks: Int?, _ args: [String], _ needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Launcher.run(ranks: ranks, args)
        XCTAssertNotEqual(r.status, 0, "\(args)", file: file, line: line)
        XCTAssertNotEqual(r.status, 132, "\(args) trapped: \(r.stderr.suffix(500))", file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr.suffix(2000))", file: file, line: line)
        XCTAssertTrue(lines.first?.contains(needle) ?? false, "\(args): expected '\(needle)' in \(lines)", file: file, line: line)
        XCTAssertTrue(lines.first?.contains("is beyond 64-bit arithmetic") ?? false, "\(lines)", file: file, line: line)
        XCTAssertFalse(r.stdout.contains("step 1/"), "\(args) ran a step: \(r.stdout)", file: file, line: line)
    }

    func testEachOverflowIsOneLineNamingTheFlag() throws {
        let max = "9223372036854775807"
        try assertOneLine(ranks: nil, ["plan", "--model", "gpt", "--n-layer", "100000", "--n-embd", "1048576", "--n-head", "1",
                                       "--block-size", "1048576", "--ranks", "2"],
                          "--n-layer 100000 --n-embd 1048576 --block-size 1048576: the GPT's parameter count")
        try assertOneLine(ranks: nil, ["plan", "--hidden", "10000000000,10000000000", "--ranks", "2"],
                          "--hidden 10000000000,10000000000: the MLP's parameter count")
        try assertOneLine(ranks: nil, ["plan", "--model", "gpt", "--batch-size", max, "--ranks", "1"],
                          "--batch-size \(max): the activation bytes")
        try assertOneLine(ranks: 2, ["--batch-size", "9223372036854775806", "--max-steps", "2"],
                          "--batch-size 9223372036854775806: the activation bytes")
        try assertOneLine(ranks: 2, ["--model", "gpt", "--steps", max, "--max-steps", "2"], "--steps \(max) --batch-size 12")
        try assertOneLine(ranks: 2, ["--epochs", "100000000000000000", "--max-steps", "2"],
                          "--epochs 100000000000000000 --batch-size 256: the run's sample count")
        try assertOneLine(ranks: 2, ["--hidden", "10000000000,10000000000", "--max-steps", "2"], "--hidden 10000000000,10000000000")
        try assertOneLine(ranks: 2, ["--model", "gpt", "--eval-batches", max, "--max-steps", "2"],
                          "--eval-batches \(max) --batch-size 12 --block-size 64: the validation token count")
        try assertOneLine(ranks: 2, ["--bucket-mb", "1e300", "--max-steps", "1"], "--bucket-mb 1e+300: the bucket size in floats")
    }

    func testBatchPerRankTimesRanksIsCheckedToo() throws {
        let r = try Launcher.run(ranks: 2, ["--batch-per-rank", "4611686018427387904", "--max-steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.contains("--batch-per-rank 4611686018427387904 x 2 ranks does not fit in 64-bit arithmetic") ?? false, "\(lines)")
    }
}
