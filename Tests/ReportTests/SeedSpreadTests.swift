import XCTest
@testable import Report

/// A GPT study whose best cells were rerun with other seeds: the best cell is picked at the grid's
/// seed only, the batch chart and the tables give the reruns' mean and spread, the heatmap keeps
/// one run per cell, and every run gets a row.
final class SeedSpreadTests: XCTestCase {
    /// The fixture's grid (seed 42) plus reruns of each best cell with seeds 43 and 44; the reruns
    /// of Lion at batch 12 land worse than the grid run (1.87, 1.89 against 1.85).
    func records() throws -> [SweepRecord] {
        var lines: [String] = []
        for (o, lr, wd, batch, losses) in [("lion", 3e-4, 1.0, 12, [1.87, 1.89]), ("adamw", 3e-3, 0.1, 12, [1.91, 1.93]),
                                           ("lion", 3e-4, 1.0, 48, [1.84, 1.86]), ("adamw", 3e-3, 0.1, 48, [1.95, 1.97])] {
            for (seed, loss) in zip([43, 44], losses) {
                lines.append(Fixture.gptRow(optimizer: o, batch: batch, lr: lr, wd: wd, valLoss: loss)
                    .replacingOccurrences(of: "\"seed\":42", with: "\"seed\":\(seed)"))
            }
        }
        return Fixture.gpt() + (try SweepRecord.parse(text: lines.joined(separator: "\n")))
    }

    func testBestCellIsTheGridSeedsAndTheReruns() throws {
        let study = Study(try records())
        XCTAssertEqual(study.gridSeed, 42)
        XCTAssertEqual(study.gridRecords.count, Fixture.gpt().count)
        let best = try XCTUnwrap(study.best("lion", batch: 12))
        XCTAssertEqual(best.seed, 42)
        XCTAssertEqual(best.lr, 3e-4)
        XCTAssertEqual(best.weightDecay, 1.0)
        let spread = try XCTUnwrap(study.seedSpread("lion", batch: 12))
        XCTAssertEqual(spread.count, 2)
        XCTAssertEqual(spread.mean, 1.88, accuracy: 1e-12)
        XCTAssertEqual(spread.sd, 0.02 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(study.plotted("lion", batch: 12) ?? .nan, 1.88, accuracy: 1e-12)
        // Without reruns the plotted value is the grid run's.
        let gridOnly = Study(Fixture.gpt())
        XCTAssertNil(gridOnly.seedSpread("lion", batch: 12))
        XCTAssertEqual(gridOnly.plotted("lion", batch: 12), gridOnly.best("lion", batch: 12)?.valLoss)
    }

    func testPagesShowTheSpreadTheBestLRAndEveryRun() throws {
        let records = try records()
        let html = HTMLReport(records: records, title: "t").html()
        XCTAssertTrue(html.contains("Lion reruns: mean ± sd (n)"))
        XCTAssertTrue(html.contains("1.880 ± 0.0141 (2)"), "the best table gives the reruns' mean and sd")
        let lrChart = try XCTUnwrap(html.components(separatedBy: "data-chart=\"best-lr-vs-batch\"").dropFirst().first)
            .components(separatedBy: "</svg>")[0]
        XCTAssertEqual(lrChart.components(separatedBy: "<circle").count - 1, 4, "one best-lr marker per optimizer and batch")
        XCTAssertTrue(lrChart.contains("batch 48: best lr 3e-4"))
        XCTAssertEqual(html.components(separatedBy: "(rerun)</td>").count - 1, 8)
        XCTAssertEqual(html.components(separatedBy: "<td>1613056").count - 1, 0, "state in MiB, not bytes")
        let heat = try XCTUnwrap(html.components(separatedBy: "data-chart=\"lr-wd-heatmap\"").dropFirst().first)
            .components(separatedBy: "</svg>")[0]
        XCTAssertEqual(heat.components(separatedBy: "class=\"mark\"").count - 1, 8, "one cell per grid point: reruns are not cells")
        let md = MarkdownSummary.text(records)
        XCTAssertTrue(md.contains("| 12 | 1.8800 ± 0.0141 (2; 1.8700-1.8900) | 1.9200 ± 0.0141 (2; 1.9100-1.9300) | +0.0400 |"), md)
    }
}
