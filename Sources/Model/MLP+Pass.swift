#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Basics
import COpenBLAS

// Forward and backward passes, llm.c style: each layer's forward and backward side by side.
// B = batch, I = layer inputs, O = layer outputs, C = classes. All matrices row-major.
// Weights W are (O, I), so a layer computes y = x W^T + b.

extension MLP {
    /// Forward + backward over a batch. `x` is (batch, inputs) row-major; `labels` is (batch).
    /// OVERWRITES grads[0..<parameterCount] with the gradient of the MEAN softmax
    /// cross-entropy over this batch. Returns the summed loss and the number of correct
    /// argmax predictions. Deterministic for the same inputs and BLAS thread count.
    public func forwardBackward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>,
                                x: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int,
                                workspace: MLPWorkspace) -> (lossSum: Double, correct: Int) {
        forwardBackward(params: params, grads: grads, x: x, labels: labels, batch: batch, workspace: workspace) { _, _ in }
    }

    /// The same, and `layerDone(l, range)` runs as soon as layer l's gradient (elements `range` of grads) is
    /// final, last layer first: the trainer starts reducing finished buckets from it.
    public func forwardBackward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>,
                                x: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int,
                                workspace: MLPWorkspace,
                                layerDone: (Int, Range<Int>) throws -> Void) rethrows -> (lossSum: Double, correct: Int) {
        try forwardBackward(params: params, gradients: .flat(grads), x: x, labels: labels, batch: batch,
                            workspace: workspace, layerDone: layerDone)
    }

    /// The same, writing each layer's gradient where `gradients` says (sharded gradients: a
    /// staging slot of its bucket).
    public func forwardBackward(params: UnsafePointer<Float>, gradients grads: GradientSink,
                                x: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int,
                                workspace: MLPWorkspace,
                                layerDone: (Int, Range<Int>) throws -> Void) rethrows -> (lossSum: Double, correct: Int) {
        precondition(workspace.model == self, "workspace was built for \(workspace.model.shapeDescription)")
        precondition(batch >= 1 && batch <= workspace.maxBatch, "batch \(batch) not in 1...\(workspace.maxBatch)")
        forward(params: params, x: x, batch: batch, workspace: workspace)

        // dlogits is (B, C) = (softmax - onehot) / B
        var dout = workspace.grad0.pointer       // gradient w.r.t. this layer's output, (B, O)
        var dnext = workspace.grad1.pointer      // receives the gradient w.r.t. its input, (B, I)
        let result = crossEntropy(logits: workspace.activations[layers.count - 1].pointer, labels: labels,
                                  batch: batch, classes: classes, dlogits: dout)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            if l < layers.count - 1 {
                reluBackward(dout: dout, out: workspace.activations[l].pointer, count: batch * layer.outputs)
            }
            let input = l == 0 ? x : UnsafePointer(workspace.activations[l - 1].pointer)
            denseBackward(layer, params: params, grads: grads, input: input, dout: dout,
                          dinput: l == 0 ? nil : dnext, batch: batch)
            try layerDone(l, layer.weightOffset..<(layer.biasOffset + layer.outputs))
            swap(&dout, &dnext)
        }
        return result
    }

    /// Forward only, in mini-batches of at most `workspace.maxBatch`.
    /// Returns the summed loss and the number of correct argmax predictions.
    public func evaluate(params: UnsafePointer<Float>, x: UnsafePointer<Float>, labels: UnsafePointer<UInt8>,
                         count: Int, workspace: MLPWorkspace) -> (lossSum: Double, correct: Int) {
        precondition(workspace.model == self, "workspace was built for \(workspace.model.shapeDescription)")
        var lossSum = 0.0
        var correct = 0
        var start = 0
        while start < count {
            let batch = min(workspace.maxBatch, count - start)
            forward(params: params, x: x + start * inputs, batch: batch, workspace: workspace)
            let r = crossEntropy(logits: workspace.activations[layers.count - 1].pointer,
                                 labels: labels + start, batch: batch, classes: classes, dlogits: nil)
            lossSum += r.lossSum
            correct += r.correct
            start += batch
        }
        return (lossSum, correct)
    }

    /// Fills workspace.activations for a batch; the last one holds the logits, (B, C).
    func forward(params: UnsafePointer<Float>, x: UnsafePointer<Float>, batch: Int, workspace: MLPWorkspace) {
        var input = x
        for (l, layer) in layers.enumerated() {
            let out = workspace.activations[l].pointer
            denseForward(layer, params: params, input: input, out: out, batch: batch)
            if l < layers.count - 1 { reluForward(out, count: batch * layer.outputs) }
            input = UnsafePointer(out)
        }
    }
}

// MARK: - Dense

/// out is (B, O) = input (B, I) x W^T (I, O) + b (O)
func denseForward(_ layer: DenseLayout, params: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  out: UnsafeMutablePointer<Float>, batch: Int) {
    let (I, O) = (layer.inputs, layer.outputs)
    let w = params + layer.weightOffset
    let b = params + layer.biasOffset
    sgemm(false, true, M: batch, N: O, K: I, input, lda: I, w, ldb: I, out, ldc: O, accumulate: false)
    biasForward(out: out, b: b, N: batch, O: O)
}

/// dW is (O, I) = dout^T (O, B) x input (B, I)
/// db is (O)    = sum over B of dout (B, O)
/// dinput is (B, I) = dout (B, O) x W (O, I); skipped for the first layer
func denseBackward(_ layer: DenseLayout, params: UnsafePointer<Float>, grads: GradientSink,
                   input: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                   dinput: UnsafeMutablePointer<Float>?, batch: Int) {
    let (I, O, B) = (layer.inputs, layer.outputs, batch)
    let w = params + layer.weightOffset
    let dw = grads.at(layer.weightOffset)
    let db = grads.at(layer.biasOffset)
    sgemm(true, false, M: O, N: I, K: B, dout, lda: O, input, ldb: I, dw, ldc: I, accumulate: false)
    biasBackward(db: db, dout: dout, N: B, O: O)
    if let dinput {
        sgemm(false, false, M: B, N: I, K: O, dout, lda: O, w, ldb: I, dinput, ldc: I, accumulate: false)
    }
}

// MARK: - ReLU

/// h is (B, O) = max(h, 0), in place
package func reluForward(_ h: UnsafeMutablePointer<Float>, count: Int) {
    for k in 0..<count where !(h[k] > 0) { h[k] = 0 }
}

/// dout is (B, O) *= (out > 0), in place; `out` is the post-ReLU activation
package func reluBackward(dout: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, count: Int) {
    for k in 0..<count where !(out[k] > 0) { dout[k] = 0 }
}

// MARK: - Softmax cross-entropy

/// loss_b = logsumexp(logits_b) - logits_b[y_b], in Double, shifted by the row max.
/// dlogits is (B, C) = (softmax(logits) - onehot(y)) / B, when asked for.
/// A prediction is correct when the first maximal logit is at the label.
func crossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int, classes: Int,
                  dlogits: UnsafeMutablePointer<Float>?) -> (lossSum: Double, correct: Int) {
    var lossSum = 0.0
    var correct = 0
    let invBatch = 1 / Double(batch)
    for r in 0..<batch {
        let z = logits + r * classes
        let y = Int(labels[r])
        precondition(y < classes, "label \(y) not in 0..<\(classes)")
        var argmax = 0
        for c in 1..<max(classes, 1) where z[c] > z[argmax] { argmax = c }
        if argmax == y { correct += 1 }
        let m = Double(z[argmax])
        var sum = 0.0
        for c in 0..<classes { sum += exp(Double(z[c]) - m) }
        let lse = m + log(sum)
        lossSum += lse - Double(z[y])
        if let dlogits {
            let d = dlogits + r * classes
            for c in 0..<classes {
                let p = exp(Double(z[c]) - lse)
                d[c] = Float((p - (c == y ? 1 : 0)) * invBatch)
            }
        }
    }
    return (lossSum, correct)
}
