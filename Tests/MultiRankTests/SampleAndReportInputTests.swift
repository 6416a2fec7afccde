import Foundation
import XCTest

/// `sample` writes its text as it generates (`--temperature inf`, refused by validate(), is
/// CLITests'); `report` on a file that is not text names the file and the line.
final class SampleAndReportInputTests: FaultTestCase {
    func testSampleStreamsItsTextAsItGenerates() throws {
        let dir = try temporaryDirectory()
        let ck = dir.appendingPathComponent("ck").path
        let trained = try Launcher.run(ranks: 1, ["--model", "gpt", "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--block-size", "16",
                                                  "--batch-size", "4", "--steps", "2", "--threads", "1", "--checkpoint", ck])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        // A billion characters would take hours: text that arrives at all arrived while generating.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Launcher.binary())
        p.arguments = ["sample", "--checkpoint", ck, "--prompt", "ROMEO:", "--tokens", "1000000000"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; p.waitUntilExit() }
        var got = Data()
        let reader = pipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(120)   // a guard against a hang, not a speed test
        while got.count < 6 + 50 && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            got.append(chunk)
        }
        let text = String(decoding: got, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("ROMEO:"), text)
        XCTAssertGreaterThanOrEqual(text.count, 6 + 50, "streamed characters before the end: \(text)")
        XCTAssertTrue(p.isRunning, "still generating while its text was read")
    }

    func testReportOnABinaryFileNamesTheFileAndLine() throws {
        let dir = try temporaryDirectory()
        let results = dir.appendingPathComponent("results.jsonl")
        try Data("{\"a\":1}\n".utf8 + [0xff, 0xfe, 0x00, 0x80, 0x0a, 0x41]).write(to: results)
        let r = try Launcher.run(ranks: nil, ["report", dir.path, "-o", dir.appendingPathComponent("r.html").path])
        XCTAssertNotEqual(r.status, 0)
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.contains("\(results.path) line 2 is not UTF-8 text") ?? false, r.stderr)
        XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
    }
}
