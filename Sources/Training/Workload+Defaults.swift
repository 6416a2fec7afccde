import Basics
import Checkpoint
import Foundation
import MemoryPlanning
import Model
import RunSchema

/// What a library user's model need not say: every requirement of `Workload` below has a
/// default, so a model of one's own implements only `name`, `parameterCount`, `tensors`,
/// `stepsPerPeriod`, `periods`, `initialize`, `forwardBackward` and `evaluate`.
extension Workload {
    /// The name.
    public var description: String { name }
    /// A custom signature: the parameter count and the number of tensors.
    public var signature: ModelSignature { .custom(parameterCount: parameterCount, shape: [max(1, tensors.count)]) }
    /// One segment per tensor, in buffer order (gradient buckets follow them).
    public var segments: [Range<Int>] { tensors.sorted { $0.offset < $1.offset }.map(\.range) }
    /// `stepsPerPeriod * periods`.
    public var totalSteps: Int { stepsPerPeriod * periods }
    /// "epoch".
    public var periodName: String { "epoch" }
    /// 1: the loss averages over samples.
    public var itemsPerSample: Int { 1 }
    /// "samples".
    public var throughputUnit: String { "samples" }
    /// Not counted (no MFU line).
    public var trainingFLOPsPerSample: Double? { nil }
    /// OpenBLAS sgemm's rate.
    public func matmulRate() -> MatmulRate { .sgemm() }
    /// Not known: the memory table shows 0 for activations and data (Pss still measures them).
    public var heldBytes: WorkloadBytes { WorkloadBytes(activations: 0, dataset: 0) }
    /// `heldBytes`.
    public var plannedBytes: WorkloadBytes { heldBytes }
    /// Refused: the PyTorch names are the built-in models'.
    public func initialWeights(fromSafetensors path: String) throws -> [Float] {
        throw TrainingError("--init-from \(path): safetensors files under PyTorch's names load into the built-in models, not into \(name); set its parameters in initialize(_:seed:)")
    }

    /// "epoch 2/5  step 7/10".
    public func progressPosition(step: Int, totalSteps: Int) -> String {
        let per = max(1, stepsPerPeriod)
        return "\(periodName) \((step - 1) / per + 1)/\(periods)  step \((step - 1) % per + 1)/\(per)"
    }

    /// "epoch 2/5  train loss 0.1234  eval loss 0.2345  (1.2 s)", with the accuracy when the
    /// evaluation counts correct answers.
    public func periodLine(_ r: PeriodRecord, of run: RunShape) -> String {
        let accuracy = r.evaluation.accuracy.map { String(format: "  eval accuracy %.2f%%", $0 * 100) } ?? ""
        return String(format: "%@ %d/%d  train loss %.4f  eval loss %.4f", periodName, r.period, run.periods, r.trainLoss, r.evalLoss)
            + accuracy + "  (\(Format.duration(r.seconds)))"
    }

    /// Event "epoch" with `epoch`, `train_loss`, `eval_loss`, `eval_accuracy` (when counted), `seconds`.
    public func periodEvent(_ r: PeriodRecord) -> (event: String, fields: [(String, JSON)]) {
        var fields: [(String, JSON)] = [("epoch", .int(r.period)), ("train_loss", .number(r.trainLoss)),
                                        ("eval_loss", .number(r.evalLoss))]
        if let a = r.evaluation.accuracy { fields.append(("eval_accuracy", .number(a))) }
        fields.append(("seconds", .number(r.seconds)))
        return ("epoch", fields)
    }

    /// "eval loss 0.2345" (and the accuracy when counted).
    public func summaryText(_ final: LossSums) -> String {
        String(format: "eval loss %.4f", final.loss) + (final.accuracy.map { String(format: ", eval accuracy %.2f%%", $0 * 100) } ?? "")
    }

    /// `eval_loss` (and `eval_accuracy` when counted), then `model_shape` and `eval_interval`.
    public func summaryFields(_ final: LossSums, samplesPerSecond: Double) -> [(String, JSON)] {
        [("eval_loss", .number(final.loss))] + (final.accuracy.map { [("eval_accuracy", JSON.number($0))] } ?? [])
            + [Summary.modelShape(description), Summary.evalInterval(stepsPerPeriod)]
    }
}
