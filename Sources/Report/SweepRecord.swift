import Foundation

/// One row of a sweep's `results.jsonl`: one full training run (keys documented in README,
/// "Large-batch sweep"). Missing or null numbers read as NaN, so a diverged run still loads.
public struct SweepRecord: Sendable {
    public struct Epoch: Sendable {
        public var epoch: Int
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
    }

    /// Mean seconds per step in each phase (rank 0's clock).
    public struct StepSeconds: Sendable {
        public var compute: Double
        public var combine: Double
        public var update: Double
        public var gather: Double
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

    /// The highest test accuracy over the run's epochs (the final one if none recorded).
    public var bestTestAccuracy: Double {
        let finite = perEpoch.map(\.testAccuracy).filter(\.isFinite)
        return finite.max() ?? testAccuracy
    }

    /// Parses one JSON line; nil when it is not an object with a cell key (a line cut short by a kill).
    public static func parse(line: Substring) -> SweepRecord? {
        guard let data = line.data(using: .utf8),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let cell = object["cell"] as? String else { return nil }
        let o = Fields(object)
        let model = o.string("model").isEmpty ? "mlp" : o.string("model")
        return SweepRecord(
            cell: cell, model: model, valLoss: o.double("val_loss"), optimizer: o.string("optimizer"), globalBatch: o.int("global_batch"),
            worldSize: o.int("world_size"), lr: o.double("lr"), weightDecay: o.double("weight_decay"),
            epochs: o.int("epochs"), hidden: o.string("hidden"), schedule: o.string("schedule"), seed: o.int("seed"),
            command: o.string("command"), cpus: o.int("cpus"), threadsPerRank: o.int("threads_per_rank"),
            params: o.int("params"), testAccuracy: o.double("test_accuracy"), finalTrainLoss: o.double("final_train_loss"),
            samplesPerSecond: o.double("samples_per_s"), seconds: o.double("seconds"), steps: o.int("steps"),
            skippedSteps: o.int("skipped_steps"),
            perEpoch: o.objects("per_epoch").map { e in
                Epoch(epoch: e.int("epoch"), trainLoss: e.double("train_loss"), testLoss: e.double("test_loss"),
                      testAccuracy: e.double("test_accuracy"), seconds: e.double("seconds"))
            } + o.objects("per_eval").enumerated().map { i, e in   // the GPT: one per evaluation
                Epoch(epoch: i + 1, trainLoss: e.double("train_loss"), testLoss: e.double("val_loss"),
                      testAccuracy: .nan, seconds: e.double("seconds"))
            },
            ranks: o.objects("ranks").map { r in
                Rank(rank: r.int("rank"), host: r.string("host"), paramBytes: r.int("param_bytes"),
                     gradBytes: r.int("grad_bytes"), optimizerStateBytes: r.int("optimizer_state_bytes"),
                     peakRSSBytes: r.int("peak_rss_bytes"))
            },
            stepSeconds: o.object("step_seconds").map { s in
                StepSeconds(compute: s.double("compute"), combine: s.double("combine"),
                            update: s.double("update"), gather: s.double("gather"))
            })
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

/// Typed reads from a JSONSerialization object.
struct Fields {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    func double(_ key: String) -> Double { (raw[key] as? NSNumber)?.doubleValue ?? .nan }
    func int(_ key: String) -> Int { (raw[key] as? NSNumber)?.intValue ?? 0 }
    func string(_ key: String) -> String { raw[key] as? String ?? "" }
    func object(_ key: String) -> Fields? { (raw[key] as? [String: Any]).map(Fields.init) }
    func objects(_ key: String) -> [Fields] { (raw[key] as? [Any] ?? []).compactMap { ($0 as? [String: Any]).map(Fields.init) } }
}
