import Foundation
import XCTest
@testable import Report

/// The page speaks of the model it shows: every name, budget, split and unit comes from the rows.
final class ReportWordsTests: XCTestCase {
    /// The page's text as a reader sees it (tags dropped; tooltips and captions kept).
    func text(_ html: String) -> String {
        html.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression).lowercased()
    }

    func assertSays(_ page: String, _ words: [String], never: [String], file: StaticString = #filePath, line: UInt = #line) {
        for w in words { XCTAssertTrue(page.contains(w.lowercased()), "the page does not say '\(w)'", file: file, line: line) }
        for w in never { XCTAssertFalse(page.contains(w.lowercased()), "the page says '\(w)'", file: file, line: line) }
    }

    func testGPTAndMLPPagesNameTheirOwnModelDataBudgetAndUnits() {
        let gpt = text(HTMLReport(records: Fixture.gpt(), title: "Lion vs AdamW").html())
        assertSays(gpt, ["GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84", "Shakespeare",
                         "4,551,478 train / 505,720 validation characters", "2000 steps each", "every 500 steps",
                         "nats/char", "bits/char", "validation loss", "Lion - AdamW (nats/char, + is better)",
                         "cross-entropy loss (nats/char)", "characters/s"],
                   never: ["Fashion-MNIST", "epoch", "points", "MLP", "accuracy", "test", "images"])

        let mlp = text(HTMLReport(records: Fixture.study, title: "Lion vs AdamW").html())
        assertSays(mlp, ["MLP 784-256-128-10", "Fashion-MNIST", "60,000 train / 10,000 test images", "3 epochs each",
                         "after every epoch", "test accuracy", "points", "Lion - AdamW (points, + is better)",
                         "cross-entropy loss (nats/image)", "images/s"],
                   never: ["GPT", "Shakespeare", "nats/char", "bits/char", "validation", "characters"])
    }

    func testGPTBestTableGivesNatsAndBitsPerChar() {
        let html = HTMLReport(records: Fixture.gpt(), title: "t").html()
        // Best Lion cell at batch 12: lr 3e-4, wd 1.0 -> 1.85 nats/char = 2.669 bits/char; AdamW 1.90; Lion ahead by 0.05.
        XCTAssertTrue(html.contains("1.8500 (2.669 bits/char)"), html)
        XCTAssertTrue(html.contains("<td>+0.0500</td>"), html)
        let md = MarkdownSummary.text(Fixture.gpt())
        XCTAssertTrue(md.contains("| 12 | 2000 | **1.8500 (2.669 bits/char)** | 3e-4, 1 | 1.9000 (2.741 bits/char) | 3e-3, 0.1 | +0.0500 |"), md)
    }

    /// Rows written before the description keys (docs/lm's) read as the workloads of their time.
    func testRowsBeforeTheDescriptionKeysGetTheWorkloadsOfTheirTime() throws {
        let gpt = try XCTUnwrap(Fixture.gpt(current: false).first)
        XCTAssertEqual(gpt.modelShape, "GPT 4 layers, 4 heads, 128 wide, context 64")
        XCTAssertEqual(gpt.dataset, "Shakespeare")
        XCTAssertEqual([gpt.trainSize, gpt.evalSize], [4_551_478, 505_720])
        XCTAssertEqual(gpt.trainSize + gpt.evalSize, 5_057_198)
        XCTAssertEqual([gpt.sizeUnit, gpt.evalSplit], ["characters", "validation"])
        XCTAssertEqual(gpt.evalInterval, 500)
        let mlp = try XCTUnwrap(SweepRecord.parse(line: Substring(Fixture.row(optimizer: "lion", batch: 256, lr: 1e-4, wd: 0.1,
                                                                               accuracy: 0.8, current: false))))
        XCTAssertEqual(mlp.modelShape, "MLP 784-256-128-10")
        XCTAssertEqual([mlp.dataset, mlp.sizeUnit, mlp.evalSplit], ["Fashion-MNIST", "images", "test"])
        XCTAssertEqual([mlp.trainSize, mlp.evalSize, mlp.evalInterval], [60_000, 10_000, 234])
        // Current rows carry their own words (vocab included).
        XCTAssertEqual(Fixture.gpt().first?.modelShape, "GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84")
        let page = text(HTMLReport(records: Fixture.gpt(current: false), title: "t").html())
        assertSays(page, ["Shakespeare", "2000 steps each", "every 500 steps", "nats/char"], never: ["Fashion-MNIST", "epoch", "points"])
    }

    func testMixedModelsRenderOnePartEach() {
        let html = HTMLReport(records: Fixture.study + Fixture.gpt(), title: "t").html()
        let parts = html.components(separatedBy: "<h2 class=\"model\">")
        XCTAssertEqual(parts.count, 3, "one part per model")
        XCTAssertTrue(parts[0].contains("train 2 different models"))
        XCTAssertTrue(parts[1].hasPrefix("MLP 784-256-128-10 on Fashion-MNIST</h2>"))
        XCTAssertTrue(parts[2].hasPrefix("GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84 on Shakespeare</h2>"))
        for part in parts.dropFirst() {
            for name in HTMLReport.chartNames { XCTAssertEqual(part.components(separatedBy: "data-chart=\"\(name)\"").count, 2, name) }
        }
        assertSays(text(parts[1]), ["24 runs", "test accuracy"], never: ["Shakespeare", "nats/char"])
        assertSays(text(parts[2]), ["16 runs", "validation loss"], never: ["Fashion-MNIST", "epoch", "points"])
        XCTAssertTrue(MarkdownSummary.text(Fixture.study + Fixture.gpt()).contains("### GPT 4 layers"))
    }

    /// The memory panel: optimizer state, peak Pss beside peak RSS on one scale, and what rank 0
    /// holds from the runs' `held_bytes`.
    func testMemoryPanelShowsPssBesideRSSAndAFootnoteFromTheRuns() throws {
        let html = HTMLReport(records: Fixture.gpt(), title: "t").html()
        let svg = try XCTUnwrap(html.components(separatedBy: "data-chart=\"memory-per-rank\"").dropFirst().first?
            .components(separatedBy: "</svg>").first)
        XCTAssertTrue(svg.contains("peak Pss per rank (MiB)") && svg.contains("peak RSS per rank (MiB)"), svg)
        // 90,000,000 B = 85.8 MiB of Pss, 103,845,888 B = 99.0 MiB of RSS; Lion's state 1,613,056 B = 1.5 MiB.
        XCTAssertTrue(svg.contains("Lion rank 0 peak Pss: 85.8 MiB"), svg)
        XCTAssertTrue(svg.contains("Lion rank 0 peak RSS: 99.0 MiB"), svg)
        XCTAssertTrue(svg.contains("Lion rank 0 optimizer state: 1.5 MiB"), svg)
        XCTAssertTrue(svg.contains("AdamW / Lion optimizer state per rank: 2.00x"), svg)
        // 1,613,056 B = 1.54 MiB of the 3,226,112 B = 3.08 MiB buffer; 27,480,000 B = 26.2 MiB; 9 MiB; 50,000,000 B = 47.7 MiB.
        XCTAssertTrue(svg.contains("parameters 1.54 MiB (1/2 of the 3.08 MiB buffer), gradient staging 3.08 MiB,"), svg)
        XCTAssertTrue(svg.contains("data set 26.2 MiB"), svg)
        XCTAssertTrue(svg.contains("activations 9.00 MiB, the rest of its Pss 47.7 MiB (806,528 parameters, 2 ranks, 2 per node)"), svg)
        XCTAssertFalse(svg.contains("no data"), svg)
    }

    func testRowsBeforePssSayWhatTheyLack() throws {
        let html = HTMLReport(records: Fixture.gpt(current: false), title: "t").html()
        let svg = try XCTUnwrap(html.components(separatedBy: "data-chart=\"memory-per-rank\"").dropFirst().first?
            .components(separatedBy: "</svg>").first)
        XCTAssertTrue(svg.contains("no data: not recorded") && svg.contains("(these runs predate peak_pss_bytes)"), svg)
        XCTAssertTrue(svg.contains("each rank maps the full parameter buffer 3.08 MiB and gradients 3.08 MiB (806,528 parameters, 2 ranks, 2 per node)"), svg)
        XCTAssertTrue(svg.contains("predate held_bytes"), svg)
        // State and RSS bars are still there: 2 panels x 2 ranks x 2 optimizers.
        XCTAssertEqual(svg.components(separatedBy: "class=\"mark\"").count - 1, 8)
    }
}
