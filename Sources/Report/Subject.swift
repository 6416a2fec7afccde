import Foundation

/// What one report's runs train, on what, and for how long, in the rows' own words: the page
/// says nothing of a model, data set, budget or unit that the rows do not carry.
struct Subject {
    /// "mlp", "gpt" (or a library workload's name).
    let model: String
    /// The banner's model line: "MLP 784-256-128-10", "GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84".
    let shape: String
    let dataset: String
    let trainSize: Int
    let evalSize: Int
    /// "images", "characters".
    let sizeUnit: String
    /// "test", "validation".
    let evalSplit: String

    /// The subject of a run (of no run: nothing named).
    init(_ r: SweepRecord?) {
        (model, shape, dataset) = (r?.model ?? "", r?.modelShape ?? "", r?.dataset ?? "")
        (trainSize, evalSize, sizeUnit, evalSplit) = (r?.trainSize ?? 0, r?.evalSize ?? 0, r?.sizeUnit ?? "", r?.evalSplit ?? "")
    }

    /// The runs' budget is a number of steps (the GPT), not of epochs (the MLP).
    var countsSteps: Bool { model == "gpt" }

    /// What one report may hold: runs of one model shape on one data set.
    var key: String { [model, shape, dataset].joined(separator: "|") }

    /// "MLP 784-256-128-10 on Fashion-MNIST".
    var title: String { dataset.isEmpty ? shape : "\(shape) on \(dataset)" }

    /// "Fashion-MNIST (60,000 train / 10,000 test images)".
    var data: String {
        guard !dataset.isEmpty else { return "its own data" }
        guard trainSize > 0 else { return dataset }
        return "\(dataset) (\(Label.count(trainSize)) train / \(Label.count(evalSize)) \(evalSplit) \(sizeUnit))"
    }

    /// The x of a period record: its epoch (the MLP) or its step (the GPT).
    var periodAxis: String { countsSteps ? "step" : "epoch" }
    func periodX(_ e: SweepRecord.Epoch) -> Double { Double(countsSteps ? e.step : e.epoch) }

    /// "5 epochs", "2000 steps" (each distinct value when the runs differ).
    func budget(_ runs: [SweepRecord]) -> String {
        let values = Set(runs.map { countsSteps ? $0.steps : $0.epochs }).sorted()
        let word = countsSteps ? "steps" : "epochs"
        if values.count == 1, let v = values.first { return v == 1 ? "1 \(word.dropLast())" : "\(v) \(word)" }
        return "\(values.map(String.init).joined(separator: ", ")) \(word)"
    }

    /// "the test set after every epoch", "the validation split every 250 steps".
    func evaluation(_ runs: [SweepRecord]) -> String {
        guard countsSteps else { return "the \(evalSplit) set after every epoch" }
        let intervals = Set(runs.map(\.evalInterval)).sorted().map(String.init).joined(separator: ", ")
        return "the \(evalSplit) split every \(intervals) steps"
    }

    /// What a fixed budget means as the batch grows.
    var budgetEffect: String {
        countsSteps ? "so a larger batch sees more \(sizeUnit) in the same number of steps"
            : "so a larger batch takes fewer steps over the same \(sizeUnit)"
    }

    /// What a period's train loss averages over.
    var trainLossMeaning: String {
        countsSteps ? "mean over the steps since the previous evaluation" : "mean over the epoch's steps"
    }

    /// The unit of a loss: "nats/image", "nats/char".
    var lossUnit: String {
        switch sizeUnit {
        case "characters": return "nats/char"
        case "": return "nats"
        default: return "nats/\(sizeUnit.hasSuffix("s") ? String(sizeUnit.dropLast()) : sizeUnit)"
        }
    }

    /// Throughput of a run in `throughputUnit`: characters (tokens) per second for the GPT, samples otherwise.
    func throughput(_ r: SweepRecord) -> Double {
        countsSteps && r.tokensPerSecond.isFinite ? r.tokensPerSecond : r.samplesPerSecond
    }
    var throughputUnit: String { sizeUnit.isEmpty ? "samples/s" : "\(sizeUnit)/s" }

    /// The metric the runs are compared by.
    var metric: Metric { countsSteps ? .validationLoss(evalSplit) : .testAccuracy(evalSplit) }
}
