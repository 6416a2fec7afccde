import Foundation
import RunSchema

/// One row of a sweep's `results.jsonl`: one full training run (keys documented in docs/metrics.md
/// and declared once in `Summary`, which the writers use too). Missing
/// or null numbers read as NaN, so a diverged run still loads.
public struct SweepRecord: Sendable {
    /// One period event: an MLP epoch, or a GPT evaluation (`testLoss` is then its validation
    /// loss, `testAccuracy` NaN, `epoch` its number from 1, `step` its step).
    public struct Epoch: Sendable {
        public var epoch: Int
        /// The GPT's step at the evaluation (0 for the MLP).
        public var step: Int = 0
        public var trainLoss: Double
        public var testLoss: Double
        public var testAccuracy: Double
        public var seconds: Double
    }

    public struct Rank: Sendable {
        public var rank: Int
        public var host: String
        public var paramBytes: Int
        public var gradBytes: Int
        public var optimizerStateBytes: Int
        public var peakRSSBytes: Int
        public var peakPssBytes: Int = 0
        public var endPssBytes: Int = 0
        /// `held_bytes` by key (`parameters`, ..., `total`); empty in rows before it existed.
        public var heldBytes: [String: Int] = [:]
    }

    /// Mean seconds per step in each phase (rank 0's clock).
    public struct StepSeconds: Sendable {
        public var compute: Double
        public var combine: Double
        public var update: Double
        public var gather: Double
        public var commTotal: Double = .nan
        public var commExposed: Double = .nan
        public var total: Double { compute + combine + update + gather }
    }

    public var cell: String
    /// "mlp" (rows before the GPT carry no model key) or "gpt".
    public var model: String
    /// The GPT's last validation loss (nats/char); NaN for the MLP.
    public var valLoss: Double
    public var optimizer: String
    public var globalBatch: Int
    public var worldSize: Int
    public var lr: Double
    public var weightDecay: Double
    public var epochs: Int
    public var hidden: String
    public var schedule: String
    public var seed: Int
    public var command: String
    public var cpus: Int
    public var threadsPerRank: Int
    public var params: Int
    public var testAccuracy: Double
    public var finalTrainLoss: Double
    public var samplesPerSecond: Double
    public var seconds: Double
    public var steps: Int
    public var skippedSteps: Int
    public var perEpoch: [Epoch]
    public var ranks: [Rank]
    public var stepSeconds: StepSeconds?
    public var stateDType: String = ""
    public var warmupSteps: Int = 0
    public var minLR: Double = .nan
    public var beta1: Double = .nan
    public var beta2: Double = .nan
    /// The MLP's test loss (NaN for the GPT).
    public var testLoss: Double = .nan
    /// The GPT's (NaN for the MLP).
    public var bitsPerChar: Double = .nan
    public var tokensPerSecond: Double = .nan
    /// The GPT's cell: "layers x heads x width x context", its steps, its clip norm ("", 0, NaN for the MLP).
    public var gpt: String = ""
    public var gptSteps: Int = 0
    public var clipNorm: Double = .nan
    public var sgemmGFLOPS: Double = .nan
    /// NaN when the workload did not count FLOPs.
    public var mfu: Double = .nan
    /// The precision of the products that ran (`fp32`, `bf16`); "" in rows written before the key.
    public var computeDType: String = ""
    /// The CPU the ranks ran on (`CPUInfo`'s description; " | " between several); "" in rows written before the key.
    public var cpu: String = ""
    /// What the run trained, on what: the banner's model line, the data set, its training and
    /// evaluation splits (sizes in `sizeUnit`), the evaluation split's name, the steps between
    /// evaluations. Rows written before these keys get what the built-in workloads were then
    /// (`Legacy`), so an old results file still renders in its own words.
    public var modelShape: String = ""
    public var dataset: String = ""
    public var trainSize: Int = 0
    public var evalSize: Int = 0
    public var sizeUnit: String = ""
    public var evalSplit: String = ""
    public var evalInterval: Int = 0

    /// The highest test accuracy over the run's epochs (the final one if none recorded).
    public var bestTestAccuracy: Double {
        let finite = perEpoch.map(\.testAccuracy).filter(\.isFinite)
        return finite.max() ?? testAccuracy
    }

    /// Parses one JSON line; nil when it is not an object with a cell key (a line cut short by a kill).
    public static func parse(line: Substring) -> SweepRecord? {
        guard let o = Fields(line: line), o.holds(Summary.Cell.cell) else { return nil }
        return SweepRecord(o)
    }

    /// Every row of a JSON Lines text, in order. Blank lines and rows cut short by a kill
    /// (they start as the sweep writes every row, `{"cell"`, but do not parse) are skipped;
    /// any other line is an error naming `source` and the line.
    public static func parse(text: String, source: String = "results.jsonl") throws -> [SweepRecord] {
        var records: [SweepRecord] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if let record = parse(line: line) { records.append(record); continue }
            if trimmed.hasPrefix("{\"cell\"") { continue }
            throw SweepRecordError(source: source, line: n + 1, text: trimmed)
        }
        return records
    }

    /// Reads `results.jsonl` (an absent file is an empty sweep).
    public static func load(path: String) throws -> [SweepRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try parse(text: try String(contentsOfFile: path, encoding: .utf8), source: path)
    }
}

extension SweepRecord {
    /// Reads every key through the schema (`Summary`).
    init(_ o: Fields) {
        typealias S = Summary
        typealias C = Summary.Cell
        typealias P = Summary.Period
        typealias R = Summary.Rank
        typealias T = Summary.StepSeconds
        self.init(
            cell: o[C.cell], model: o[S.model].isEmpty ? "mlp" : o[S.model], valLoss: o[S.valLoss], optimizer: o[S.optimizer],
            globalBatch: o[S.globalBatch], worldSize: o[S.worldSize], lr: o[C.lr], weightDecay: o[C.weightDecay],
            epochs: o[C.epochs], hidden: o[C.hidden], schedule: o[C.schedule], seed: o[C.seed],
            command: o[C.command], cpus: o[C.cpus], threadsPerRank: o[S.threadsPerRank],
            params: o[S.params], testAccuracy: o[S.testAccuracy], finalTrainLoss: o[S.finalTrainLoss],
            samplesPerSecond: o[S.samplesPerSecond], seconds: o[S.seconds], steps: o[S.steps],
            skippedSteps: o[S.skippedSteps],
            perEpoch: o[S.perEpoch].map { e in
                Epoch(epoch: e[P.epoch], trainLoss: e[P.trainLoss], testLoss: e[P.testLoss],
                      testAccuracy: e[P.testAccuracy], seconds: e[P.seconds])
            } + o[S.perEval].enumerated().map { i, e in   // the GPT: one per evaluation
                Epoch(epoch: i + 1, step: e[P.step], trainLoss: e[P.trainLoss], testLoss: e[P.valLoss],
                      testAccuracy: .nan, seconds: e[P.seconds])
            },
            ranks: o[S.ranks].map { r in
                Rank(rank: r[R.rank], host: r[R.host], paramBytes: r[R.paramBytes], gradBytes: r[R.gradBytes],
                     optimizerStateBytes: r[R.optimizerStateBytes], peakRSSBytes: r[R.peakRSSBytes],
                     peakPssBytes: r[R.peakPssBytes], endPssBytes: r[R.endPssBytes],
                     heldBytes: r[R.heldBytes]?.ints ?? [:])
            },
            stepSeconds: o[S.stepSeconds].map { s in
                StepSeconds(compute: s[T.compute], combine: s[T.combine], update: s[T.update], gather: s[T.gather],
                            commTotal: s[T.commTotal], commExposed: s[T.commExposed])
            },
            stateDType: o[S.stateDType], warmupSteps: o[C.warmupSteps], minLR: o[C.minLR], beta1: o[C.beta1],
            beta2: o[C.beta2], testLoss: o[S.testLoss], bitsPerChar: o[S.bitsPerChar],
            tokensPerSecond: o[S.tokensPerSecond], gpt: o[C.gpt], gptSteps: o[C.gptSteps], clipNorm: o[C.clipNorm],
            sgemmGFLOPS: o[S.sgemmGFLOPS], mfu: o[S.mfu])
        computeDType = o[S.computeDType]
        cpu = o[S.cpu]
        if o.holds(S.modelShape) {
            (modelShape, evalInterval) = (o[S.modelShape], o[S.evalInterval])
        } else {
            (modelShape, evalInterval) = (Legacy.shape(self), Legacy.evalInterval(self))
        }
        if o.holds(S.dataset) {
            (dataset, trainSize, evalSize) = (o[S.dataset], o[S.trainSize], o[S.evalSize])
            (sizeUnit, evalSplit) = (o[S.sizeUnit], o[S.evalSplit])
        } else if let data = Legacy.data[model] {
            (dataset, trainSize, evalSize, sizeUnit, evalSplit) = data
        }
    }

    /// What rows written before `model_shape` and `dataset` ran: the MLP on Fashion-MNIST
    /// (28x28 images, 10 classes) and the GPT on the prepared Shakespeare corpus (5,057,198
    /// characters, the first 90% for training), the only built-in workloads then.
    enum Legacy {
        static let data: [String: (String, Int, Int, String, String)] = [
            "mlp": ("Fashion-MNIST", 60_000, 10_000, "images", "test"),
            "gpt": ("Shakespeare", 4_551_478, 505_720, "characters", "validation"),
        ]

        /// "MLP 784-256-128-10"; "GPT 4 layers, 4 heads, 128 wide, context 64" from the cell's `gpt`.
        static func shape(_ r: SweepRecord) -> String {
            switch r.model {
            case "mlp": return "MLP 784-\(r.hidden.replacingOccurrences(of: ",", with: "-"))-10"
            case "gpt":
                let d = r.gpt.split(separator: "x")
                guard d.count == 4 else { return "GPT" }
                return "GPT \(d[0]) layers, \(d[1]) heads, \(d[2]) wide, context \(d[3])"
            default: return r.model
            }
        }

        /// The GPT's first evaluation step; the MLP's steps per epoch.
        static func evalInterval(_ r: SweepRecord) -> Int {
            if r.model == "gpt" { return r.perEpoch.first?.step ?? r.steps }
            return r.epochs > 0 ? r.steps / r.epochs : r.steps
        }
    }
}

/// A line of a results file that is not a sweep result: names the file, the line and the fix.
public struct SweepRecordError: Error, CustomStringConvertible {
    public let source: String
    public let line: Int
    public let text: String

    public var description: String {
        let isObject = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any]
        let what = isObject ? "a JSON object without a \"cell\" key (a --metrics file?)" : "not a JSON object"
        let shown = text.count > 40 ? text.prefix(40) + "..." : text
        return "\(source) line \(line) is not a sweep result: \(what): '\(shown)'; pass a `lion-dist sweep` --out directory, or delete that line"
    }
}
