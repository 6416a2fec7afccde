import Foundation
import XCTest
@testable import Report

/// Renders the fixture reports (the MLP's and the GPT's) in headless Chromium (Debian
/// `chromium`, installed by launch/setup): the browser must parse all five charts with their
/// data marks and the page's own words, and the screenshot must be written. Without chromium the
/// test fails, naming the fix: a report nobody has seen rendered is not tested.
final class RenderTests: XCTestCase {
    var chromium: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return paths.map { "\($0)/chromium" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs chromium; one that has not exited after `timeout` seconds is killed and fails the test.
    func run(_ binary: String, _ arguments: [String], stdout: URL, timeout: TimeInterval = 120) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu"] + arguments
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: stdout)
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("chromium \(arguments) did not finish in \(timeout) s")
        }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testChromiumRendersEveryChartWithData() throws {
        let chromium = try XCTUnwrap(chromium, "chromium is not installed: run launch/setup (or apt-get install chromium)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, records, words) in [("mlp", Fixture.study, ["MLP 784-256-128-10", "Fashion-MNIST", "3 epochs each"]),
                                       ("gpt", Fixture.gpt(), ["GPT 4 layers", "Shakespeare", "2000 steps each", "nats/char"])] {
            let html = dir.appendingPathComponent("\(name).html"), png = dir.appendingPathComponent("\(name).png")
            try HTMLReport(records: records, title: "render test").html().write(to: html, atomically: true, encoding: .utf8)

            // The DOM as the browser parsed it: every chart present, each with marks, and the page's words.
            let dom = dir.appendingPathComponent("\(name)-dom.html")
            XCTAssertEqual(try run(chromium, ["--dump-dom", html.absoluteString], stdout: dom), 0)
            let parsed = try String(contentsOf: dom, encoding: .utf8)
            for chart in HTMLReport.chartNames {
                let svg = try XCTUnwrap(parsed.components(separatedBy: "data-chart=\"\(chart)\"").dropFirst().first, "browser lost \(chart)")
                    .components(separatedBy: "</svg>")[0]
                XCTAssertTrue(svg.contains("class=\"mark\""), "\(name): \(chart) has no data marks in the browser's DOM")
            }
            for w in words { XCTAssertTrue(parsed.contains(w), "\(name): the browser's DOM does not say '\(w)'") }

            XCTAssertEqual(try run(chromium, ["--hide-scrollbars", "--screenshot=\(png.path)", "--window-size=1000,3000", html.absoluteString],
                                   stdout: dir.appendingPathComponent("out")), 0)
            let bytes = try Data(contentsOf: png)
            XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(name): not a PNG")
            XCTAssertGreaterThan(bytes.count, 20_000, "\(name): a 1000x3000 screenshot of five charts is not this small")
        }
    }
}
