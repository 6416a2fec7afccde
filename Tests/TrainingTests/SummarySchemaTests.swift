import FashionData
import MemoryPlanning
import Report
import RunSchema
@testable import RunSetup
import Sharding
import TextData
@testable import Training
@testable import Workloads
import XCTest

/// A run summary as `RunSummary` writes it (with the real workloads' period events and
/// evaluation keys) reads back through the sweep's row and `SweepRecord` with every field equal.
final class SummarySchemaTests: XCTestCase {
    /// Two ranks with every number distinct, so a key read into the wrong field shows.
    func ranks() -> [RankMemory] {
        (0..<2).map { r in
            var held = MemoryBreakdown()
            (held.parameters, held.gradients, held.optimizerState) = (1001 + r, 2002 + r, 3003 + r)
            held.computeParameters = 7007 + r
            (held.activations, held.dataset, held.runtime) = (4004 + r, 5005 + r, 6006 + r)
            return RankMemory(rank: r, host: "node-\(r)", paramBytes: 117_700 + r, gradBytes: 117_800 + r,
                              optimizerStateBytes: 58_900 + r, peakRSSBytes: 145_666_048 + r,
                              peakPssBytes: 50_898_944 + r, endPssBytes: 50_000_000 + r, held: held)
        }
    }

    func timings() -> StepTimings {
        var t = StepTimings()
        (t.combine, t.update, t.gather, t.commTotal, t.commExposed) = (0.0055, 0.0009, 0.0006, 0.0105, 0.0062)
        return t
    }

    func summary(of workload: Workload, model: String, final: LossSums, mfu: Double?) -> RunSummary {
        let periods = (1...2).map { p in
            workload.periodEvent(PeriodRecord(period: p, step: 250 * p, trainLoss: 0.8 / Double(p),
                                              evaluation: LossSums(lossSum: 4.8 * Double(p), count: 10, correct: 7 + Double(p)),
                                              seconds: 4.25 * Double(p)))
        }
        return RunSummary(model: model, worldSize: 2, optimizer: "lion", stateDType: "bf16", params: 29_425, globalBatch: 64,
                          steps: 468, skippedSteps: 3, evaluation: final, finalTrainLoss: 0.1253, seconds: 48.125,
                          samplesPerSecond: 13_139.5, compute: 0.0155, timings: timings(), ranks: ranks(), threadsPerRank: 1,
                          periods: periods, mfu: mfu, sgemmFLOPS: 1.2345e11, computeDType: "bf16",
                          cpu: "AMD EPYC (family 25, model 17; avx512f, avx512_bf16, no amx_bf16) | Other (no avx512f, no avx512_bf16, no amx_bf16)",
                          evaluationFields: workload.summaryFields(final, samplesPerSecond: 13_139.5))
    }

    func readBack(_ summary: RunSummary, config: RunConfig) throws -> SweepRecord {
        let sweep = Sweep(cells: [config], outDirectory: "/nonexistent", command: "lion-dist sweep --x", warmupFraction: nil)
        let key = Sweep.key(config, worldSize: summary.worldSize)
        let line = sweep.row(config: config, key: key, summary: summary).text
        let record = try XCTUnwrap(SweepRecord.parse(line: Substring(line)), line)
        XCTAssertEqual(record.cell, key)
        XCTAssertEqual(record.command, "lion-dist sweep --x")
        XCTAssertEqual(record.cpus, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(record.optimizer, config.optimizer.kind.rawValue)
        XCTAssertEqual(record.globalBatch, config.globalBatch)
        XCTAssertEqual(record.lr, Double("\(config.optimizer.lr)"))
        XCTAssertEqual(record.weightDecay, Double("\(config.optimizer.weightDecay)"))
        XCTAssertEqual(record.beta1, Double("\(config.optimizer.beta1)"))
        XCTAssertEqual(record.beta2, Double("\(config.optimizer.beta2)"))
        XCTAssertEqual(record.minLR, Double("\(config.minLR)"))
        XCTAssertEqual(record.warmupSteps, config.warmupSteps)
        XCTAssertEqual(record.epochs, config.epochs)
        XCTAssertEqual(record.schedule, config.schedule.rawValue)
        XCTAssertEqual(record.seed, Int(config.seed))
        return record
    }

    /// Every field the summary writes, against what the record read.
    func assertSummaryFields(_ r: SweepRecord, _ s: RunSummary, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.model, s.model, file: file, line: line)
        XCTAssertEqual(r.worldSize, s.worldSize, file: file, line: line)
        XCTAssertEqual(r.stateDType, s.stateDType, file: file, line: line)
        XCTAssertEqual(r.params, s.params, file: file, line: line)
        XCTAssertEqual(r.steps, s.steps, file: file, line: line)
        XCTAssertEqual(r.skippedSteps, s.skippedSteps, file: file, line: line)
        XCTAssertEqual(r.finalTrainLoss, s.finalTrainLoss, file: file, line: line)
        XCTAssertEqual(r.seconds, s.seconds, file: file, line: line)
        XCTAssertEqual(r.samplesPerSecond, s.samplesPerSecond, file: file, line: line)
        XCTAssertEqual(r.threadsPerRank, s.threadsPerRank, file: file, line: line)
        XCTAssertEqual(r.sgemmGFLOPS, s.sgemmFLOPS / 1e9, file: file, line: line)
        XCTAssertEqual(r.computeDType, s.computeDType, file: file, line: line)
        XCTAssertEqual(r.cpu, s.cpu, file: file, line: line)
        if let mfu = s.mfu { XCTAssertEqual(r.mfu, mfu, file: file, line: line) } else { XCTAssertTrue(r.mfu.isNaN, file: file, line: line) }
        let t = try? XCTUnwrap(r.stepSeconds, file: file, line: line)
        XCTAssertEqual(t?.compute, s.compute, file: file, line: line)
        XCTAssertEqual(t?.combine, s.timings.combine, file: file, line: line)
        XCTAssertEqual(t?.update, s.timings.update, file: file, line: line)
        XCTAssertEqual(t?.gather, s.timings.gather, file: file, line: line)
        XCTAssertEqual(t?.commTotal, s.timings.commTotal, file: file, line: line)
        XCTAssertEqual(t?.commExposed, s.timings.commExposed, file: file, line: line)
        XCTAssertEqual(r.ranks.count, s.ranks.count, file: file, line: line)
        for (a, b) in zip(r.ranks, s.ranks) {
            XCTAssertEqual(a.rank, b.rank, file: file, line: line)
            XCTAssertEqual(a.host, b.host, file: file, line: line)
            XCTAssertEqual(a.paramBytes, b.paramBytes, file: file, line: line)
            XCTAssertEqual(a.gradBytes, b.gradBytes, file: file, line: line)
            XCTAssertEqual(a.optimizerStateBytes, b.optimizerStateBytes, file: file, line: line)
            XCTAssertEqual(a.peakRSSBytes, b.peakRSSBytes, file: file, line: line)
            XCTAssertEqual(a.peakPssBytes, b.peakPssBytes, file: file, line: line)
            XCTAssertEqual(a.endPssBytes, b.endPssBytes, file: file, line: line)
            let h = b.held
            XCTAssertEqual(a.heldBytes, ["parameters": h.parameters, "compute_parameters": h.computeParameters,
                                         "gradients": h.gradients, "optimizer_state": h.optimizerState,
                                         "activations": h.activations, "dataset": h.dataset, "runtime": h.runtime,
                                         "total": h.total], file: file, line: line)
        }
    }

    func testMLPSummaryReadsBackThroughTheSweepRow() throws {
        let images = ImageSet(count: 4, rows: 28, cols: 28, pixels: [Float](repeating: 0, count: 4 * 784), labels: [0, 1, 2, 3])
        let workload = MLPWorkload(data: FashionMNIST(train: images, test: images), hidden: [4], globalBatch: 2, epochs: 2,
                                   seed: 1, rank: 0, worldSize: 1)
        var config = RunConfig(dataDirectory: "/nonexistent")
        (config.hidden, config.epochs, config.globalBatch, config.warmupSteps, config.minLR) = ([4], 2, 64, 23, 1e-6)
        let final = LossSums(lossSum: 3.353, count: 10, correct: 8.935)
        let s = summary(of: workload, model: "mlp", final: final, mfu: 0.591)
        let r = try readBack(s, config: config)
        assertSummaryFields(r, s)
        XCTAssertEqual(r.hidden, "4")
        XCTAssertEqual([r.modelShape, r.dataset, r.sizeUnit, r.evalSplit], ["MLP 784-4-10", "Fashion-MNIST", "images", "test"])
        XCTAssertEqual([r.trainSize, r.evalSize, r.evalInterval], [4, 4, 2])
        XCTAssertEqual(r.testAccuracy, final.accuracy)
        XCTAssertEqual(r.testLoss, final.loss)
        XCTAssertTrue(r.valLoss.isNaN && r.bitsPerChar.isNaN && r.tokensPerSecond.isNaN)
        XCTAssertEqual(r.gpt, "")
        XCTAssertEqual(r.perEpoch.count, s.periods.count)
        for (p, e) in r.perEpoch.enumerated() {
            XCTAssertEqual(e.epoch, p + 1)
            XCTAssertEqual(e.trainLoss, 0.8 / Double(p + 1))
            XCTAssertEqual(e.testLoss, 0.48 * Double(p + 1))
            XCTAssertEqual(e.testAccuracy, (7 + Double(p + 1)) / 10)
            XCTAssertEqual(e.seconds, 4.25 * Double(p + 1))
        }
    }

    func testGPTSummaryReadsBackThroughTheSweepRow() throws {
        let text = Array(String(repeating: "To be, or not to be: that is the question.\n", count: 40).utf8)
        let corpus = ShakespeareCorpus(bytes: text)
        var config = RunConfig(dataDirectory: "/nonexistent")
        config.model = .gpt
        (config.gpt.nLayer, config.gpt.nHead, config.gpt.nEmbd, config.gpt.blockSize) = (1, 1, 8, 8)
        (config.steps, config.globalBatch, config.clipNorm) = (500, 4, 1)
        let workload = try GPTWorkload(corpus: corpus, config: config.gpt.config(vocabSize: corpus.vocabularySize),
                                   globalBatch: 4, steps: 500, evalInterval: 250, evalBatches: 1, seed: 1, rank: 0, worldSize: 1)
        let final = LossSums(lossSum: 18.505, count: 10)
        let s = summary(of: workload, model: "gpt", final: final, mfu: nil)
        let r = try readBack(s, config: config)
        assertSummaryFields(r, s)
        XCTAssertEqual(r.gpt, "1x1x8x8")
        XCTAssertEqual([r.modelShape, r.dataset, r.sizeUnit, r.evalSplit],
                       [workload.description, "Shakespeare", "characters", "validation"])
        XCTAssertTrue(r.modelShape.hasPrefix("GPT 1 layers, 1 heads, 8 wide, context 8"), r.modelShape)
        XCTAssertEqual([r.trainSize, r.evalSize, r.evalInterval], [corpus.train.count, corpus.validation.count, 250])
        XCTAssertEqual(r.gptSteps, 500)
        XCTAssertEqual(r.clipNorm, 1)
        XCTAssertEqual(r.valLoss, final.loss)
        XCTAssertEqual(r.bitsPerChar, final.loss / log(2))
        XCTAssertEqual(r.tokensPerSecond, 13_139.5 * 8)
        XCTAssertTrue(r.testAccuracy.isNaN && r.testLoss.isNaN)
        XCTAssertEqual(r.perEpoch.count, s.periods.count)
        for (p, e) in r.perEpoch.enumerated() {
            XCTAssertEqual(e.epoch, p + 1)
            XCTAssertEqual(e.step, 250 * (p + 1))
            XCTAssertEqual(e.trainLoss, 0.8 / Double(p + 1))
            XCTAssertEqual(e.testLoss, 0.48 * Double(p + 1))
            XCTAssertTrue(e.testAccuracy.isNaN)
            XCTAssertEqual(e.seconds, 4.25 * Double(p + 1))
        }
    }

    /// The keys are stable (docs/metrics.md): the summary event's, in order, for the MLP.
    func testSummaryKeysAreTheDocumentedOnes() throws {
        let images = ImageSet(count: 2, rows: 28, cols: 28, pixels: [Float](repeating: 0, count: 2 * 784), labels: [0, 1])
        let workload = MLPWorkload(data: FashionMNIST(train: images, test: images), hidden: [4], globalBatch: 2, epochs: 1,
                                   seed: 1, rank: 0, worldSize: 1)
        let s = summary(of: workload, model: "mlp", final: LossSums(lossSum: 1, count: 2, correct: 1), mfu: 0.5)
        XCTAssertEqual(s.json.map(\.0), ["world_size", "optimizer", "params", "test_accuracy", "test_loss", "model_shape", "dataset",
                                         "train_size", "eval_size", "size_unit", "eval_split", "eval_interval", "seconds", "samples_per_s",
                                         "ranks", "state_dtype", "global_batch", "steps", "skipped_steps", "final_train_loss",
                                         "step_seconds", "threads_per_rank", "per_epoch", "model", "sgemm_gflops", "compute_dtype", "cpu", "mfu"])
        guard case .array(let rows) = s.json[14].1, case .object(let row) = rows[0] else { return XCTFail("ranks is not an array of objects") }
        XCTAssertEqual(row.map(\.0), ["rank", "host", "param_bytes", "grad_bytes", "optimizer_state_bytes", "peak_rss_bytes",
                                      "peak_pss_bytes", "end_pss_bytes", "held_bytes"])
        guard case .object(let phases) = s.json[20].1 else { return XCTFail("step_seconds is not an object") }
        XCTAssertEqual(phases.map(\.0), ["compute", "combine", "update", "gather", "comm_total", "comm_exposed"])
    }
}
