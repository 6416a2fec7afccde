import Foundation

/// What a study compares runs by: accuracy on the test set for the MLP (higher is better), loss
/// on the validation split for the GPT (lower is better, nats/char with bits/char beside),
/// always after the last epoch or step, never the best one. The split's name comes from the rows.
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
    /// A loss in nats also shown in bits (`text`: "1.8509 (2.670 bits/char)").
    let showsBits: Bool
    /// The run's value in display units (accuracy in percent, loss in nats/char).
    let value: (SweepRecord) -> Double

    /// Accuracy on the `split` set after the last epoch, in percent.
    static func testAccuracy(_ split: String) -> Metric {
        let name = split.isEmpty ? "test" : split
        return Metric(title: capitalized(name) + " accuracy", axis: "\(name) accuracy after the last epoch (%)", unit: "points",
                      higherIsBetter: true, span: 10, near: 1, format: "%.1f", differenceFormat: "%.2f", showsBits: false) {
            $0.testAccuracy * 100
        }
    }

    /// Loss on the `split` after the last step, in nats per character.
    static func validationLoss(_ split: String) -> Metric {
        let name = split.isEmpty ? "validation" : split
        return Metric(title: capitalized(name) + " loss", axis: "\(name) loss after the last step (nats/char)", unit: "nats/char",
                      higherIsBetter: false, span: 0.5, near: 0.02, format: "%.3f", differenceFormat: "%.4f", showsBits: true) {
            $0.valLoss
        }
    }

    static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    /// Larger is better, NaN worst: for picking the best run.
    func score(_ r: SweepRecord) -> Double {
        let v = value(r)
        return v.isFinite ? (higherIsBetter ? v : -v) : -.infinity
    }

    /// "89.12%" or "1.8509 (2.670 bits/char)".
    func text(_ r: SweepRecord) -> String {
        let v = value(r)
        guard v.isFinite else { return "-" }
        if showsBits { return String(format: "%.4f (%.3f bits/char)", v, v / log(2)) }
        return higherIsBetter ? String(format: "%.2f%%", v) : String(format: "%.4f", v)
    }

    /// How far `a` is ahead of `b` (positive: a is better), in `unit`.
    func advantage(_ a: SweepRecord, over b: SweepRecord) -> Double {
        higherIsBetter ? value(a) - value(b) : value(b) - value(a)
    }
}
