import Foundation
import XCTest
@testable import Report

/// Fixture rows in the sweep's JSONL format, built the way `lion-dist sweep` writes them.
enum Fixture {
    static func row(optimizer: String, batch: Int, lr: Double, wd: Double, accuracy: Double?,
                    stepSeconds: Bool = true, ranks: Int = 2) -> String {
        let state = optimizer == "lion" ? 470_336 : 940_672
        let rankRows = (0..<ranks).map {
            "{\"rank\":\($0),\"host\":\"vm\",\"param_bytes\":940672,\"grad_bytes\":940672,\"optimizer_state_bytes\":\(state),\"peak_rss_bytes\":\(260_000_000 + $0)}"
        }.joined(separator: ",")
        let acc = accuracy.map { "\($0)" } ?? "null"
        let epochs = (1...3).map { epoch in
            "{\"epoch\":\(epoch),\"train_loss\":\(1.0 / Double(epoch)),\"test_loss\":\(1.1 / Double(epoch)),\"test_accuracy\":\(accuracy.map { "\($0 - 0.01 * Double(3 - epoch))" } ?? "null"),\"seconds\":1.5}"
        }.joined(separator: ",")
        let steps = stepSeconds ? ",\"step_seconds\":{\"compute\":0.002,\"combine\":0.001,\"update\":0.0002,\"gather\":0.0001}" : ""
        return "{\"cell\":\"\(optimizer) batch=\(batch) lr=\(lr) wd=\(wd)\",\"optimizer\":\"\(optimizer)\",\"global_batch\":\(batch),"
            + "\"world_size\":\(ranks),\"lr\":\(lr),\"weight_decay\":\(wd),\"epochs\":3,\"hidden\":\"256,128\",\"schedule\":\"cosine\","
            + "\"seed\":42,\"cpus\":2,\"command\":\"lion-dist sweep --out x\",\"params\":235146,\"test_accuracy\":\(acc),"
            + "\"seconds\":4.5,\"samples_per_s\":40000,\"ranks\":[\(rankRows)],\"steps\":\(60000 / batch * 3),\"skipped_steps\":0,"
            + "\"final_train_loss\":0.33,\"threads_per_rank\":1,\"per_epoch\":[\(epochs)]\(steps)}"
    }

    /// Two optimizers, three batches, a 2x2 grid each; accuracy falls with the batch, faster for AdamW.
    static var study: [SweepRecord] {
        var lines: [String] = []
        for batch in [64, 1024, 16384] {
            for (o, lrs, wds) in [("lion", [1e-4, 3e-4], [0.1, 1.0]), ("adamw", [1e-3, 3e-3], [0.01, 0.1])] {
                for lr in lrs {
                    for wd in wds {
                        let drop = o == "lion" ? 0.01 : 0.02
                        lines.append(row(optimizer: o, batch: batch, lr: lr, wd: wd,
                                         accuracy: 0.88 - drop * log2(Double(batch) / 64) / 4 - (lr > 2e-4 && lr < 2e-3 ? 0 : 0.005)))
                    }
                }
            }
        }
        return try! SweepRecord.parse(text: lines.joined(separator: "\n"))
    }
}

final class SweepRecordTests: XCTestCase {
    func testParsesEveryField() throws {
        let r = try XCTUnwrap(SweepRecord.parse(line: Substring(Fixture.row(optimizer: "lion", batch: 256, lr: 3e-4, wd: 0.1, accuracy: 0.87))))
        XCTAssertEqual(r.optimizer, "lion")
        XCTAssertEqual(r.globalBatch, 256)
        XCTAssertEqual(r.lr, 3e-4)
        XCTAssertEqual(r.weightDecay, 0.1)
        XCTAssertEqual(r.ranks.map(\.optimizerStateBytes), [470_336, 470_336])
        XCTAssertEqual(r.ranks.map(\.peakRSSBytes), [260_000_000, 260_000_001])
        XCTAssertEqual(r.perEpoch.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(r.perEpoch.last?.testAccuracy ?? 0, 0.87, accuracy: 1e-12)
        XCTAssertEqual(r.bestTestAccuracy, 0.87, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(r.stepSeconds).total, 0.0033, accuracy: 1e-12)
        XCTAssertEqual(r.threadsPerRank, 1)
    }

    func testNullAccuracyIsNaNAndTruncatedLinesAreSkipped() throws {
        let good = Fixture.row(optimizer: "adamw", batch: 64, lr: 1e-2, wd: 0.1, accuracy: nil)
        let records = try SweepRecord.parse(text: good + "\n" + String(good.prefix(80)) + "\n\n")
        XCTAssertEqual(records.count, 1)
        XCTAssertTrue(records[0].testAccuracy.isNaN)
    }

    func testCSVHasOneLinePerRunAndQuotesHidden() {
        let csv = SweepCSV.text(Fixture.study)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 24)
        XCTAssertTrue(lines[0].hasPrefix("optimizer,global_batch,world_size,lr,weight_decay"))
        XCTAssertTrue(lines[1].hasPrefix("lion,64,2,0.0001,0.1,3,\"256,128\","), String(lines[1]))
    }
}

final class HTMLReportTests: XCTestCase {
    /// The SVG of each chart, by its data-chart name.
    func charts(_ html: String) -> [String: String] {
        var out: [String: String] = [:]
        for piece in html.components(separatedBy: "<svg ").dropFirst() {
            guard let nameStart = piece.range(of: "data-chart=\""),
                  let nameEnd = piece[nameStart.upperBound...].firstIndex(of: "\"") else { continue }
            let svg = piece.components(separatedBy: "</svg>")[0]
            out[String(piece[nameStart.upperBound..<nameEnd])] = svg
        }
        return out
    }

    func marks(_ svg: String) -> Int { svg.components(separatedBy: "class=\"mark\"").count - 1 }

    func testEveryChartHasData() {
        let html = HTMLReport(records: Fixture.study, title: "t").html()
        let found = charts(html)
        XCTAssertEqual(Set(found.keys), Set(HTMLReport.chartNames))
        for name in HTMLReport.chartNames {
            XCTAssertGreaterThanOrEqual(marks(found[name] ?? ""), 1, "chart \(name) has no data marks")
            XCTAssertFalse((found[name] ?? "").contains("no data"), "chart \(name) says no data")
        }
        // Heatmap: 2 optimizers x 2 lr x 2 wd cells at the default batch (all tie: the middle, 1024).
        XCTAssertEqual(marks(found["lr-wd-heatmap"]!), 8)
        XCTAssertTrue(found["lr-wd-heatmap"]!.contains("global batch 1024"))
        // Accuracy vs batch: one line and 3 points per optimizer.
        XCTAssertEqual(marks(found["accuracy-vs-batch"]!), 2 * (1 + 3))
        // Memory: two panels x two ranks x two optimizers; the ratio is stated.
        XCTAssertEqual(marks(found["memory-per-rank"]!), 8)
        XCTAssertTrue(found["memory-per-rank"]!.contains("AdamW / Lion optimizer state per rank: 2.00x"))
        // Self-contained: no scripts, no external references.
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        XCTAssertFalse(html.contains("https://"))
    }

    func testMemoryBarsShowLionAtHalfOfAdamW() {
        let svg = charts(HTMLReport(records: Fixture.study, title: "t").html())["memory-per-rank"]!
        // 470,336 B = 459.3 KiB; 940,672 B = 918.6 KiB.
        XCTAssertTrue(svg.contains("Lion rank 0: 459.3 KiB"), svg)
        XCTAssertTrue(svg.contains("AdamW rank 0: 918.6 KiB"), svg)
    }

    func testChartsWithoutDataSaySoAndHaveNoMarks() throws {
        let rows = [Fixture.row(optimizer: "lion", batch: 64, lr: 1e-4, wd: 0.1, accuracy: 0.8, stepSeconds: false)]
        let found = charts(HTMLReport(records: try SweepRecord.parse(text: rows.joined()), title: "t").html())
        XCTAssertEqual(marks(found["step-time"]!), 0)
        XCTAssertTrue(found["step-time"]!.contains("no data"))
        XCTAssertGreaterThan(marks(found["accuracy-vs-batch"]!), 0)
    }

    func testBestTableNamesTheWinnerPerBatch() {
        let html = HTMLReport(records: Fixture.study, title: "t").html()
        // At 16384 (8 doublings from 64) Lion loses 2 points and AdamW 4 from 88%: Lion ahead by 2.
        XCTAssertTrue(html.contains("<td>16384</td>"))
        XCTAssertTrue(html.contains("<td>+2.00</td>"), html)
    }

    func testMarkdownTableHasOneRowPerBatchAndTheSpreads() {
        let md = MarkdownSummary.text(Fixture.study)
        XCTAssertTrue(md.contains("| 16384 | 9 | **86.00%** | 3e-4, 0.1 | 84.00% | 1e-3, 0.01 | +2.00 |"), md)
        // Lion's grid: 0.5 points between the penalized lr and the best.
        XCTAssertTrue(md.contains("| 1024 | 0.50; 4 of 4 | 0.50; 4 of 4 |"), md)
    }

    func testEscapesText() {
        XCTAssertEqual(SVG.escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;")
    }
}
