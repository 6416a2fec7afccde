import Foundation

/// `results.csv`: one line per run, the columns a spreadsheet wants (rank figures are the
/// maximum over ranks; accuracies are fractions).
public enum SweepCSV {
    public static let header = ["optimizer", "global_batch", "world_size", "lr", "weight_decay", "epochs", "hidden",
                                "test_accuracy", "best_test_accuracy", "final_train_loss", "samples_per_s", "seconds",
                                "optimizer_state_bytes_per_rank", "peak_rss_bytes_per_rank", "test_accuracy_by_epoch",
                                "model", "val_loss"]

    public static func text(_ records: [SweepRecord]) -> String {
        var lines = [header.joined(separator: ",")]
        for r in records {
            let fields = [r.optimizer, "\(r.globalBatch)", "\(r.worldSize)", number(r.lr), number(r.weightDecay),
                          "\(r.epochs)", r.hidden, number(r.testAccuracy), number(r.bestTestAccuracy),
                          number(r.finalTrainLoss), number(r.samplesPerSecond), number(r.seconds),
                          "\(r.ranks.map(\.optimizerStateBytes).max() ?? 0)", "\(r.ranks.map(\.peakRSSBytes).max() ?? 0)",
                          r.perEpoch.map { number($0.testAccuracy) }.joined(separator: " "), r.model, number(r.valLoss)]
            lines.append(fields.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }

    static func quote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
