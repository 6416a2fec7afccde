import Collectives
import Foundation
import MemoryPlanning
import RunSchema
import TensorBoard

/// `--tensorboard DIR` on rank 0: the run's scalars in a TensorBoard event file, at the global
/// step. Every step: train/loss, lr, grad_norm. At each progress line: tokens_per_s (or the
/// workload's unit) or samples_per_s, the values `--metrics` writes. At each evaluation: the evaluation's
/// figures (val/loss, val/bits_per_char; eval/loss, eval/accuracy), then a flush so a running
/// job can be watched. At the end: each rank's peak Pss (memory/peak_pss_mib/rank<r>).
/// A failed write warns once on stderr; training goes on without the file.
final class TensorBoardLog {
    let file: EventFile
    private var warned = false

    init(directory: String) {
        file = EventFile(directory: directory, host: Communicator.processorName())
        if file.failure == nil { print("tensorboard: writing \(file.path)") }
        check()
    }

    func step(_ step: Int, loss: Double, lr: Float, gradNorm: Double) {
        file.scalar("train/loss", loss, step: step)
        file.scalar("lr", Double(lr), step: step)
        file.scalar("grad_norm", gradNorm, step: step)
    }

    func throughput(_ step: Int, unit: String, perSecond: Double) {
        file.scalar("\(unit)_per_s", perSecond, step: step)
    }

    /// The numbers of the workload's evaluation event under TensorBoard's "split/name" tags.
    func evaluation(_ step: Int, _ fields: [(String, JSON)]) {
        for (name, value) in fields {
            guard let tag = Self.tag(name) else { continue }
            switch value {
            case .number(let x): file.scalar(tag, x, step: step)
            case .int(let x): file.scalar(tag, Double(x), step: step)
            default: continue
            }
        }
        file.flush()
        check()
    }

    /// val_loss -> val/loss, eval_accuracy -> eval/accuracy, bits_per_char -> val/bits_per_char;
    /// nil for the position, the time and the period's mean train loss (train/loss is per step).
    static func tag(_ field: String) -> String? {
        if ["step", "epoch", "seconds", "train_loss"].contains(field) { return nil }
        if field == "bits_per_char" { return "val/bits_per_char" }
        for split in ["val_", "eval_", "test_"] where field.hasPrefix(split) {
            return split.dropLast() + "/" + field.dropFirst(split.count)
        }
        return "eval/\(field)"
    }

    func memory(_ step: Int, _ ranks: [RankMemory]) {
        for r in ranks { file.scalar("memory/peak_pss_mib/rank\(r.rank)", Double(r.peakPssBytes) / 1_048_576, step: step) }
        file.flush()
        check()
    }

    func close() {
        file.close()
        check()
    }

    private func check() {
        guard let failure = file.failure, !warned else { return }
        warned = true
        fputs("warning: --tensorboard: \(failure); training continues without the event file\n", stderr)
    }
}
