import Foundation

/// What a study compares runs by: test accuracy for the MLP (higher is better), validation
/// loss for the GPT (lower is better), always after the last epoch or step, never the best one.
struct Metric {
    /// "Test accuracy", "Validation loss".
    let title: String
    /// The y axis or colour scale label.
    let axis: String
    /// Units of a difference: "points", "nats/char".
    let unit: String
    let higherIsBetter: Bool
    /// The colour scale spans at most this far from the best cell; "near the best" is within `near`.
    let span: Double
    let near: Double
    /// printf formats of a chart label and of a difference or spread.
    let format: String
    let differenceFormat: String
    /// The run's value in display units (accuracy in percent, loss in nats/char).
    let value: (SweepRecord) -> Double

    static let testAccuracy = Metric(title: "Test accuracy", axis: "test accuracy after last epoch (%)", unit: "points",
                                     higherIsBetter: true, span: 10, near: 1, format: "%.1f", differenceFormat: "%.2f") { $0.testAccuracy * 100 }
    static let validationLoss = Metric(title: "Validation loss", axis: "validation loss after the last step (nats/char)",
                                       unit: "nats/char", higherIsBetter: false, span: 0.5, near: 0.02, format: "%.3f", differenceFormat: "%.4f") { $0.valLoss }

    /// The metric of a sweep's rows: validation loss when they are language-model runs.
    static func of(_ records: [SweepRecord]) -> Metric {
        records.contains { $0.model == "gpt" } ? .validationLoss : .testAccuracy
    }

    /// Larger is better, NaN worst: for picking the best run.
    func score(_ r: SweepRecord) -> Double {
        let v = value(r)
        return v.isFinite ? (higherIsBetter ? v : -v) : -.infinity
    }

    /// "89.12%" or "1.8912".
    func text(_ r: SweepRecord) -> String {
        let v = value(r)
        guard v.isFinite else { return "-" }
        return higherIsBetter ? String(format: "%.2f%%", v) : String(format: "%.4f", v)
    }

    /// How far `a` is ahead of `b` (positive: a is better), in `unit`.
    func advantage(_ a: SweepRecord, over b: SweepRecord) -> Double {
        higherIsBetter ? value(a) - value(b) : value(b) - value(a)
    }
}
