import Basics
import Model

/// A batch's summed loss over `count` rows and how many rows the model got right (the first
/// largest logit at the label).
public struct BatchLoss: Sendable, Equatable {
    public var lossSum: Double
    public var count: Int
    public var correct: Int

    public init(lossSum: Double = 0, count: Int = 0, correct: Int = 0) {
        self.lossSum = lossSum
        self.count = count
        self.correct = correct
    }

    /// Mean loss per row.
    public var loss: Double { count > 0 ? lossSum / Double(count) : .nan }
    /// Fraction of rows right.
    public var accuracy: Double { count > 0 ? Double(correct) / Double(count) : .nan }

    /// Both sums added.
    public static func + (a: BatchLoss, b: BatchLoss) -> BatchLoss {
        BatchLoss(lossSum: a.lossSum + b.lossSum, count: a.count + b.count, correct: a.correct + b.correct)
    }
}

/// Softmax cross-entropy over the last dimension of logits (rows, classes), one label per row:
/// loss_r = logsumexp(z_r) - z_r[label_r] (the GPT's fused kernel, in Double per row). Its
/// backward is the gradient of the MEAN over the rows: (softmax(z) - onehot(label)) / rows.
public final class SoftmaxCrossEntropy {
    private var dlogits: ActivationTensor!
    private var labels = AlignedBuffer<UInt16>(count: 0)
    private var rows = 0
    private var computed: TensorView?

    public init() {}

    /// Storage for `maxBatch` samples of logits of shape `logits` (per sample).
    public func allocate(maxBatch: Int, logits: [Int]) {
        dlogits = ActivationTensor(maxBatch: maxBatch, sampleShape: logits)
        labels = AlignedBuffer(count: maxBatch * logits.dropLast().reduce(1, *) + 1)
    }

    /// The summed loss of `logits` (batch, ..., classes) against `labels` (one per row, in
    /// 0..<classes); with `gradient`, keeps the mean's gradient for `backward()`.
    public func forward(_ logits: TensorView, labels y: [Int], gradient: Bool) -> BatchLoss {
        let V = logits.shape[logits.shape.count - 1]
        rows = logits.rows
        precondition(y.count == rows, "\(y.count) labels for \(rows) rows of logits \(logits.shape)")
        // The kernel reads row r's target at tokens[r * stride + t + 1]: stride 1, T 1, labels from index 1.
        for (r, label) in y.enumerated() {
            precondition(label >= 0 && label < V, "label \(label) not in 0..<\(V) (classes)")
            labels.pointer[r + 1] = UInt16(label)
        }
        var correct = 0
        for r in 0..<rows {
            let z = logits.base + r * V
            var best = 0
            for c in 1..<max(V, 1) where z[c] > z[best] { best = c }
            if best == y[r] { correct += 1 }
        }
        let z: TensorView
        if gradient {
            z = dlogits.view(batch: logits.batch)
            z.base.update(from: logits.base, count: logits.count)
            computed = z
        } else {
            z = logits
            computed = nil
        }
        let sum = crossEntropy(logits: z.base, tokens: labels.pointer, stride: 1, B: rows, T: 1, V: V,
                               dscale: gradient ? 1 / Float(rows) : nil)
        return BatchLoss(lossSum: sum, count: rows, correct: correct)
    }

    /// d(mean loss)/d(logits) of the last `forward(_:labels:gradient: true)`, (batch, ..., classes).
    public func backward() -> TensorView {
        guard let computed else { preconditionFailure("SoftmaxCrossEntropy.backward() needs a forward with gradient: true") }
        return computed
    }
}
