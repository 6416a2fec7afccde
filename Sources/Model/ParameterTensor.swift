/// One named tensor of a model: a view (offset, shape) of the model's flat parameter buffer.
///
/// Every model lays its parameters out as one flat, 64-byte aligned Float buffer; tensors are
/// named views into it. The trainer uses them for parameter groups (which ranges decay),
/// checkpoints name them, and gradient buckets follow the model's segments.
public struct ParameterTensor: Sendable, Equatable {
    /// e.g. "h.0.attn.c_attn.weight" (GPT) or "fc0.weight" (MLP).
    public let name: String
    /// First element in the flat buffer.
    public let offset: Int
    /// Row-major shape, e.g. [out, in] for a linear weight.
    public let shape: [Int]
    /// Whether decoupled weight decay applies: matrices and embeddings yes, gains and biases no
    /// (nanoGPT's `configure_optimizers`).
    public let decays: Bool

    /// Package-internal: library users build tensors with `TensorLayout`, which checks its input.
    package init(name: String, offset: Int, shape: [Int], decays: Bool) {
        precondition(offset >= 0 && shape.allSatisfy { $0 >= 1 }, "bad tensor \(name): offset \(offset), shape \(shape)")
        self.name = name
        self.offset = offset
        self.shape = shape
        self.decays = decays
    }

    /// Elements in the tensor.
    public var count: Int { shape.reduce(1, *) }
    /// Its elements in the flat buffer.
    public var range: Range<Int> { offset..<(offset + count) }
}
