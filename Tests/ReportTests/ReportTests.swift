import Foundation
import XCTest
@testable import Report

/// Fixture rows in the sweep's JSONL format, built the way `lion-dist sweep` writes them
/// (`current: false`: as it wrote them before Pss, `held_bytes` and the workload's description keys).
enum Fixture {
    /// Two ranks on one node sharing the parameters: each maps P (`paramBytes`) and holds half of it.
    static func ranks(state: Int, count: Int, rss: Int, current: Bool, paramBytes: Int = 940_672) -> String {
        (0..<count).map { r in
            let measured = current ? ",\"peak_pss_bytes\":\(90_000_000 + r),\"end_pss_bytes\":\(80_000_000 + r),\"held_bytes\":{\"parameters\":\(paramBytes / 2),"
                + "\"gradients\":\(paramBytes),\"optimizer_state\":\(state),\"activations\":9437184,\"dataset\":27480000,\"runtime\":50000000,\"total\":90000000}" : ""
            return "{\"rank\":\(r),\"host\":\"vm\",\"param_bytes\":\(paramBytes),\"grad_bytes\":\(paramBytes),\"optimizer_state_bytes\":\(state),\"peak_rss_bytes\":\(rss + r)\(measured)}"
        }.joined(separator: ",")
    }

    static func row(optimizer: String, batch: Int, lr: Double, wd: Double, accuracy: Double?,
                    stepSeconds: Bool = true, ranks: Int = 2, current: Bool = true) -> String {
        let state = optimizer == "lion" ? 470_336 : 940_672
        let acc = accuracy.map { "\($0)" } ?? "null"
        let epochs = (1...3).map { epoch in
            "{\"epoch\":\(epoch),\"train_loss\":\(1.0 / Double(epoch)),\"test_loss\":\(1.1 / Double(epoch)),\"test_accuracy\":\(accuracy.map { "\($0 - 0.01 * Double(3 - epoch))" } ?? "null"),\"seconds\":1.5}"
        }.joined(separator: ",")
        let steps = stepSeconds ? ",\"step_seconds\":{\"compute\":0.002,\"combine\":0.001,\"update\":0.0002,\"gather\":0.0001}" : ""
        let described = current ? ",\"model_shape\":\"MLP 784-256-128-10\",\"dataset\":\"Fashion-MNIST\",\"train_size\":60000,\"eval_size\":10000,"
            + "\"size_unit\":\"images\",\"eval_split\":\"test\",\"eval_interval\":\(60000 / batch)" : ""
        return "{\"cell\":\"\(optimizer) batch=\(batch) lr=\(lr) wd=\(wd)\",\"optimizer\":\"\(optimizer)\",\"global_batch\":\(batch),"
            + "\"world_size\":\(ranks),\"lr\":\(lr),\"weight_decay\":\(wd),\"epochs\":3,\"hidden\":\"256,128\",\"schedule\":\"cosine\","
            + "\"seed\":42,\"cpus\":2,\"command\":\"lion-dist sweep --out x\",\"params\":235146,\"test_accuracy\":\(acc)\(described),"
            + "\"seconds\":4.5,\"samples_per_s\":40000,\"ranks\":[\(Fixture.ranks(state: state, count: ranks, rss: 260_000_000, current: current))],"
            + "\"steps\":\(60000 / batch * 3),\"skipped_steps\":0,"
            + "\"final_train_loss\":0.33,\"threads_per_rank\":1,\"per_epoch\":[\(epochs)]\(steps)}"
    }

    /// A GPT run (4 layers, 4 heads, 128 wide, context 64) of 2000 steps, evaluated every 500,
    /// as the sweep writes it for `--model gpt`; its final validation loss is `valLoss` nats/char.
    static func gptRow(optimizer: String, batch: Int, lr: Double, wd: Double, valLoss: Double, current: Bool = true) -> String {
        let state = optimizer == "lion" ? 1_613_056 : 3_226_112
        let evals = (1...4).map { k in
            let v = valLoss + 0.1 * Double(4 - k)
            return "{\"step\":\(500 * k),\"train_loss\":\(v - 0.01),\"val_loss\":\(v),\"bits_per_char\":\(v / log(2)),\"seconds\":60.0}"
        }.joined(separator: ",")
        let described = current ? ",\"model_shape\":\"GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84\",\"dataset\":\"Shakespeare\","
            + "\"train_size\":4551478,\"eval_size\":505720,\"size_unit\":\"characters\",\"eval_split\":\"validation\",\"eval_interval\":500,"
            + "\"cpu\":\"AMD EPYC (family 25, model 17; avx512f, avx512_bf16, no amx_bf16)\"" : ""
        return "{\"cell\":\"\(optimizer) batch=\(batch) lr=\(lr) wd=\(wd) model=gpt gpt=4x4x128x64 steps=2000\",\"optimizer\":\"\(optimizer)\","
            + "\"global_batch\":\(batch),\"world_size\":2,\"lr\":\(lr),\"weight_decay\":\(wd),\"epochs\":5,\"hidden\":\"256,128\","
            + "\"schedule\":\"cosine\",\"warmup_steps\":100,\"seed\":42,\"cpus\":2,\"command\":\"lion-dist sweep --model gpt --out x\","
            + "\"gpt\":\"4x4x128x64\",\"gpt_steps\":2000,\"clip_norm\":1.0,\"params\":806528,\"val_loss\":\(valLoss),"
            + "\"bits_per_char\":\(valLoss / log(2)),\"tokens_per_s\":944.6\(described),\"seconds\":1667.4,\"samples_per_s\":14.76,"
            + "\"ranks\":[\(Fixture.ranks(state: state, count: 2, rss: 103_845_888, current: current, paramBytes: 3_226_112))],\"state_dtype\":\"fp32\",\"steps\":2000,"
            + "\"skipped_steps\":0,\"final_train_loss\":\(valLoss - 0.01),\"step_seconds\":{\"compute\":0.68,\"combine\":0.08,"
            + "\"update\":0.02,\"gather\":0.03},\"threads_per_rank\":1,\"per_eval\":[\(evals)],\"model\":\"gpt\"}"
    }

    /// Lion and AdamW at batches 12 and 48 on a 2x2 grid each; Lion ends lower.
    static func gpt(current: Bool = true) -> [SweepRecord] {
        var lines: [String] = []
        for batch in [12, 48] {
            for (o, lrs, wds, base) in [("lion", [1e-4, 3e-4], [0.3, 1.0], 1.85), ("adamw", [1e-3, 3e-3], [0.03, 0.1], 1.90)] {
                for lr in lrs {
                    for wd in wds {
                        lines.append(gptRow(optimizer: o, batch: batch, lr: lr, wd: wd,
                                            valLoss: base + (lr == lrs[0] ? 0.05 : 0) + (wd == wds[0] ? 0.02 : 0), current: current))
                    }
                }
            }
        }
        return try! SweepRecord.parse(text: lines.joined(separator: "\n"))
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
        // Memory: three panels (state, peak Pss, peak RSS) x two ranks x two optimizers; the ratio is stated.
        XCTAssertEqual(marks(found["memory-per-rank"]!), 12)
        XCTAssertTrue(found["memory-per-rank"]!.contains("AdamW / Lion optimizer state per rank: 2.00x"))
        // Self-contained: no scripts, no external references.
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        XCTAssertFalse(html.contains("https://"))
    }

    func testMemoryBarsShowLionAtHalfOfAdamW() {
        let svg = charts(HTMLReport(records: Fixture.study, title: "t").html())["memory-per-rank"]!
        // 470,336 B = 459.3 KiB; 940,672 B = 918.6 KiB.
        XCTAssertTrue(svg.contains("Lion rank 0 optimizer state: 459.3 KiB"), svg)
        XCTAssertTrue(svg.contains("AdamW rank 0 optimizer state: 918.6 KiB"), svg)
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
        XCTAssertTrue(md.contains("| global batch | steps | Lion best test accuracy | lr, wd | AdamW best test accuracy | lr, wd | Lion - AdamW (points, + is better) |"), md)
        XCTAssertTrue(md.contains("| 16384 | 9 | **86.00%** | 3e-4, 0.1 | 84.00% | 1e-3, 0.01 | +2.00 |"), md)
        // Lion's grid: 0.5 points between the penalized lr and the best.
        XCTAssertTrue(md.contains("| 1024 | 0.50; 4 of 4 | 0.50; 4 of 4 |"), md)
    }

    /// The caption names the CPU the runs' rows record; rows from before the key name none.
    func testCaptionNamesTheCPU() {
        let cpu = "AMD EPYC (family 25, model 17; avx512f, avx512_bf16, no amx_bf16)"
        XCTAssertEqual(Fixture.gpt().first?.cpu, cpu)
        XCTAssertTrue(HTMLReport(records: Fixture.gpt(), title: "t").html().contains("(2 CPUs: \(cpu), 1 thread(s) per rank)"))
        XCTAssertEqual(Fixture.gpt(current: false).first?.cpu, "")
        XCTAssertTrue(HTMLReport(records: Fixture.gpt(current: false), title: "t").html().contains("(2 CPUs, 1 thread(s) per rank)"))
    }

    func testEscapesText() {
        XCTAssertEqual(SVG.escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;")
    }
}
