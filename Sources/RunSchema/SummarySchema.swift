import Foundation

/// One key of a run's summary and the type of its value. The writers (Training's `RunSummary`,
/// `RankMemory`, the sweep's row) make a key's pair with `key(value)`; the reader (`SweepRecord`)
/// takes the value back with `fields[key]`. Both go through the same constant, so a key cannot
/// be written under one name or type and read under another.
public struct SummaryKey<Value>: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// A key whose value is one JSON object (`step_seconds`, `held_bytes`).
public enum SummaryObject {}

/// The summary's JSON: the `--metrics` `summary` event and every row of a sweep's
/// `results.jsonl` (the cell's keys, then the summary's). docs/metrics.md documents
/// them; keys are only ever added, never renamed.
public enum Summary {
    // The run, in the order the summary writes them (the workload's evaluation keys follow `params`).
    public static let worldSize = SummaryKey<Int>("world_size")
    public static let optimizer = SummaryKey<String>("optimizer")
    public static let params = SummaryKey<Int>("params")
    public static let seconds = SummaryKey<Double>("seconds")
    public static let samplesPerSecond = SummaryKey<Double>("samples_per_s")
    public static let ranks = SummaryKey<[SummaryObject]>("ranks")
    public static let stateDType = SummaryKey<String>("state_dtype")
    public static let globalBatch = SummaryKey<Int>("global_batch")
    public static let steps = SummaryKey<Int>("steps")
    public static let skippedSteps = SummaryKey<Int>("skipped_steps")
    public static let finalTrainLoss = SummaryKey<Double>("final_train_loss")
    public static let stepSeconds = SummaryKey<SummaryObject>("step_seconds")
    public static let threadsPerRank = SummaryKey<Int>("threads_per_rank")
    /// `per_epoch` (the MLP), `per_eval` (the GPT): the workload's period events, in order.
    public static func periods(_ event: String) -> SummaryKey<[SummaryObject]> { SummaryKey("per_" + event) }
    public static let perEpoch = periods("epoch")
    public static let perEval = periods("eval")
    public static let model = SummaryKey<String>("model")
    public static let sgemmGFLOPS = SummaryKey<Double>("sgemm_gflops")
    /// The precision of the matrix products that ran (`fp32`, `bf16`): what `--compute-dtype auto` chose.
    public static let computeDType = SummaryKey<String>("compute_dtype")
    /// The CPU the ranks ran on: model name, family and model, the AVX-512/bf16/AMX features
    /// ("AMD EPYC (family 25, model 17; avx512f, avx512_bf16, no amx_bf16)"); several CPU types
    /// are joined by " | ". Rows written before the key read as "".
    public static let cpu = SummaryKey<String>("cpu")
    /// Absent when the workload does not count FLOPs.
    public static let mfu = SummaryKey<Double>("mfu")

    /// The workload's evaluation keys (MLP: accuracy and loss on the test set; GPT: validation).
    public static let testAccuracy = SummaryKey<Double>("test_accuracy")
    public static let testLoss = SummaryKey<Double>("test_loss")
    public static let valLoss = SummaryKey<Double>("val_loss")
    public static let bitsPerChar = SummaryKey<Double>("bits_per_char")
    public static let tokensPerSecond = SummaryKey<Double>("tokens_per_s")

    /// What the run trained, on what (the report's words; rows before these keys have none):
    /// the banner's model line ("MLP 784-256-128-10"), the data set ("Fashion-MNIST",
    /// "Shakespeare"), the sizes of its training and evaluation splits in `size_unit` ("images",
    /// "characters"), the evaluation split's name ("test", "validation"), and the steps between
    /// evaluations (an epoch's steps for the MLP).
    public static let modelShape = SummaryKey<String>("model_shape")
    public static let dataset = SummaryKey<String>("dataset")
    public static let trainSize = SummaryKey<Int>("train_size")
    public static let evalSize = SummaryKey<Int>("eval_size")
    public static let sizeUnit = SummaryKey<String>("size_unit")
    public static let evalSplit = SummaryKey<String>("eval_split")
    public static let evalInterval = SummaryKey<Int>("eval_interval")

    /// One object of `ranks`.
    public enum Rank {
        public static let rank = SummaryKey<Int>("rank")
        public static let host = SummaryKey<String>("host")
        public static let paramBytes = SummaryKey<Int>("param_bytes")
        public static let gradBytes = SummaryKey<Int>("grad_bytes")
        public static let optimizerStateBytes = SummaryKey<Int>("optimizer_state_bytes")
        public static let peakRSSBytes = SummaryKey<Int>("peak_rss_bytes")
        public static let peakPssBytes = SummaryKey<Int>("peak_pss_bytes")
        public static let endPssBytes = SummaryKey<Int>("end_pss_bytes")
        /// By category: `parameters`, `compute_parameters`, `gradients`, `optimizer_state`, `activations`, `dataset`,
        /// `runtime`, `total` (integers).
        public static let heldBytes = SummaryKey<SummaryObject>("held_bytes")
    }

    /// `step_seconds`: mean seconds per step of each phase, rank 0's clock.
    public enum StepSeconds {
        public static let compute = SummaryKey<Double>("compute")
        public static let combine = SummaryKey<Double>("combine")
        public static let update = SummaryKey<Double>("update")
        public static let gather = SummaryKey<Double>("gather")
        public static let commTotal = SummaryKey<Double>("comm_total")
        public static let commExposed = SummaryKey<Double>("comm_exposed")
    }

    /// One period event: `epoch` (the MLP: `epoch`, `train_loss`, `test_loss`, `test_accuracy`,
    /// `seconds`) or `eval` (the GPT: `step`, `train_loss`, `val_loss`, `bits_per_char`, `seconds`).
    public enum Period {
        public static let epoch = SummaryKey<Int>("epoch")
        public static let step = SummaryKey<Int>("step")
        public static let trainLoss = SummaryKey<Double>("train_loss")
        public static let testLoss = Summary.testLoss
        public static let testAccuracy = Summary.testAccuracy
        public static let valLoss = Summary.valLoss
        public static let bitsPerChar = Summary.bitsPerChar
        public static let seconds = Summary.seconds
    }

    /// A sweep row's cell: its key, then the configuration (before the summary's keys).
    public enum Cell {
        public static let cell = SummaryKey<String>("cell")
        public static let lr = SummaryKey<Double>("lr")
        public static let weightDecay = SummaryKey<Double>("weight_decay")
        public static let epochs = SummaryKey<Int>("epochs")
        public static let hidden = SummaryKey<String>("hidden")
        public static let schedule = SummaryKey<String>("schedule")
        public static let warmupSteps = SummaryKey<Int>("warmup_steps")
        public static let minLR = SummaryKey<Double>("min_lr")
        public static let beta1 = SummaryKey<Double>("beta1")
        public static let beta2 = SummaryKey<Double>("beta2")
        public static let seed = SummaryKey<Int>("seed")
        public static let cpus = SummaryKey<Int>("cpus")
        public static let command = SummaryKey<String>("command")
        /// The GPT's cells only: "layers x heads x width x context", its steps, its clip norm.
        public static let gpt = SummaryKey<String>("gpt")
        public static let gptSteps = SummaryKey<Int>("gpt_steps")
        public static let clipNorm = SummaryKey<Double>("clip_norm")
    }
}

// MARK: writing: `key(value)` is the pair an object holds.

extension SummaryKey where Value == Int {
    public func callAsFunction(_ value: Int) -> (String, JSON) { (name, .int(value)) }
}

extension SummaryKey where Value == Double {
    public func callAsFunction(_ value: Double) -> (String, JSON) { (name, .number(value)) }
}

extension SummaryKey where Value == String {
    public func callAsFunction(_ value: String) -> (String, JSON) { (name, .string(value)) }
}

extension SummaryKey where Value == SummaryObject {
    public func callAsFunction(_ pairs: [(String, JSON)]) -> (String, JSON) { (name, .object(pairs)) }
    /// An object built elsewhere (`MemoryBreakdown.json`).
    public func callAsFunction(_ object: JSON) -> (String, JSON) { (name, object) }
}

extension SummaryKey where Value == [SummaryObject] {
    public func callAsFunction(_ objects: [[(String, JSON)]]) -> (String, JSON) { (name, .array(objects.map(JSON.object))) }
    public func callAsFunction(_ objects: [JSON]) -> (String, JSON) { (name, .array(objects)) }
}

// MARK: reading: `fields[key]`; a missing or null number reads as NaN (0 for integers), so a
// diverged run's row still loads.

/// One parsed JSON object, read through the schema's keys. Parsed with JSONDecoder, which
/// reads a number back to the same Double the writer printed (JSONSerialization on Linux can
/// miss by an ulp: 1.8504999999999998 came back as 1.8505000000000003).
public struct Fields {
    let values: [String: JSONValue]
    init(_ values: [String: JSONValue]) { self.values = values }

    /// The object of one JSON line; nil when the line is not a JSON object.
    public init?(line: Substring) {
        guard case .object(let values)? = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else { return nil }
        self.init(values)
    }

    /// Whether the object holds a string under `key`.
    public func holds(_ key: SummaryKey<String>) -> Bool {
        if case .string? = values[key.name] { return true }
        return false
    }

    public subscript(key: SummaryKey<Double>) -> Double { values[key.name]?.double ?? .nan }
    public subscript(key: SummaryKey<Int>) -> Int { values[key.name]?.int ?? 0 }
    public subscript(key: SummaryKey<String>) -> String {
        if case .string(let s)? = values[key.name] { return s }
        return ""
    }
    public subscript(key: SummaryKey<SummaryObject>) -> Fields? {
        if case .object(let o)? = values[key.name] { return Fields(o) }
        return nil
    }
    public subscript(key: SummaryKey<[SummaryObject]>) -> [Fields] {
        guard case .array(let items)? = values[key.name] else { return [] }
        return items.compactMap { if case .object(let o) = $0 { return Fields(o) } else { return nil } }
    }

    /// Every integer of the object by key (`held_bytes`).
    public var ints: [String: Int] { values.compactMapValues(\.int) }
}

/// A parsed JSON value (what `Fields` holds).
enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var values: [String: JSONValue] = [:]
            for key in object.allKeys { values[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(values)
        } else if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { self = .null }
            else if let b = try? value.decode(Bool.self) { self = .bool(b) }
            else if let i = try? value.decode(Int.self) { self = .int(i) }
            else if let x = try? value.decode(Double.self) { self = .number(x) }
            else { self = .string(try value.decode(String.self)) }
        }
    }

    /// A number as a Double (nil for anything else: null reads as NaN through `Fields`).
    var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .number(let x): return x
        default: return nil
        }
    }

    /// A number as an Int (a fraction is cut toward zero, as NSNumber.intValue did).
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .number(let x): return x.isFinite && abs(x) < 9e18 ? Int(x) : nil
        default: return nil
        }
    }
}
