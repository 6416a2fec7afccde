import Foundation
import XCTest
@testable import Report

/// Renders the fixture report in headless Chromium (Debian `chromium`): the browser must parse
/// all five charts with their data marks, and the screenshot must be written. Skipped when
/// chromium is not installed (scripts/render-report installs it on demand; launch/setup does not).
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
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
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
        guard let chromium else { throw XCTSkip("chromium is not installed (apt-get install chromium, or run scripts/render-report once)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let html = dir.appendingPathComponent("report.html"), png = dir.appendingPathComponent("report.png")
        try HTMLReport(records: Fixture.study, title: "render test").html().write(to: html, atomically: true, encoding: .utf8)

        // The DOM as the browser parsed it: every chart present, each with marks.
        let dom = dir.appendingPathComponent("dom.html")
        XCTAssertEqual(try run(chromium, ["--dump-dom", html.absoluteString], stdout: dom), 0)
        let parsed = try String(contentsOf: dom, encoding: .utf8)
        for name in HTMLReport.chartNames {
            let svg = try XCTUnwrap(parsed.components(separatedBy: "data-chart=\"\(name)\"").dropFirst().first, "browser lost \(name)")
                .components(separatedBy: "</svg>")[0]
            XCTAssertTrue(svg.contains("class=\"mark\""), "\(name) has no data marks in the browser's DOM")
        }

        XCTAssertEqual(try run(chromium, ["--hide-scrollbars", "--screenshot=\(png.path)", "--window-size=1000,3000", html.absoluteString],
                               stdout: dir.appendingPathComponent("out")), 0)
        let bytes = try Data(contentsOf: png)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "not a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "a 1000x3000 screenshot of five charts is not this small")
    }
}
