/// Activation and gradient scratch for one MLP at batches up to `maxBatch`, allocated once.
///
/// Memory: `MLPWorkspace.bytes(model:maxBatch:)`, 4 * maxBatch * (sum of layer outputs +
/// 2 * widest layer) bytes (784-1024-512-10 at batch 1024: ~14.7 MB).
public final class MLPWorkspace {
    public let model: MLP
    public let maxBatch: Int
    /// Per layer l: (maxBatch, outputs_l). Hidden layers hold post-ReLU values; the last holds logits.
    let activations: [FlatBuffer]
    /// Two (maxBatch, widest) buffers the backward pass ping-pongs between.
    let grad0: FlatBuffer
    let grad1: FlatBuffer

    public init(model: MLP, maxBatch: Int) {
        precondition(maxBatch >= 1, "maxBatch must be >= 1")
        self.model = model
        self.maxBatch = maxBatch
        activations = model.layers.map { FlatBuffer(count: maxBatch * $0.outputs) }
        grad0 = FlatBuffer(count: maxBatch * model.maxWidth)
        grad1 = FlatBuffer(count: maxBatch * model.maxWidth)
    }

    /// Bytes of scratch a workspace for `model` at `maxBatch` holds, without allocating one
    /// (for a memory plan made before training).
    public static func bytes(model: MLP, maxBatch: Int) -> Int {
        MemoryLayout<Float>.stride * maxBatch * (model.layers.reduce(0) { $0 + $1.outputs } + 2 * model.maxWidth)
    }
}
