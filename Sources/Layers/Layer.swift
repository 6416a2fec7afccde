import Basics
import Model

/// One step of a model: a forward and a backward over typed tensors. A model is a list of
/// layers (``Sequential``); its backward runs the list reversed.
///
/// A layer instance belongs to one model: `declare` records its tensors, `allocate` its
/// activations. The tensors flowing between layers have the shape (batch, sample...), e.g.
/// (batch, features) or (batch, positions, width); a layer that acts on features acts on the
/// last dimension, every other dimension being rows.
public protocol Layer: AnyObject {
    /// Adds this layer's parameter tensors (none for an activation function).
    func declare(_ parameters: inout LayerParameters)
    /// One sample's output shape for one sample's input shape; throws for a shape the layer cannot take.
    func outputShape(input: [Int]) throws -> [Int]
    /// Allocates activations for batches of up to `plan.maxBatch` samples of shape `input`.
    func allocate(_ plan: ActivationPlan, input: [Int])
    /// Writes the initial parameters of this layer's tensors, deterministic from `seed`.
    func initialize(_ params: ParameterValues, seed: UInt64)
    /// The output for `x` (batch, input...), a view of this layer's own storage, valid until its
    /// next forward. The layer keeps what its backward needs (x included: keep x unchanged).
    func forward(_ x: TensorView, params: ParameterValues) -> TensorView
    /// Given dout, the loss's gradient with respect to the last forward's output, WRITES the
    /// gradient of each of this layer's tensors to `grads[tensor]` (overwriting it) and returns
    /// the gradient with respect to x (its own storage), or nil when `inputGradient` is false.
    func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink,
                  inputGradient: Bool) -> TensorView?
    /// Whether x has a gradient (false for token ids): such a layer must come first.
    var differentiableInput: Bool { get }
}

extension Layer {
    /// Most layers' input has a gradient.
    public var differentiableInput: Bool { true }
}

/// Lays a model's tensors out over one flat buffer, layer after layer: `add` appends a tensor
/// after the previous one and names it after its layer ("1.weight": layer 1's weight), as
/// PyTorch's `nn.Sequential` does.
public struct LayerParameters: Sendable {
    /// The tensors so far, in buffer order.
    public private(set) var tensors: [ParameterTensor] = []
    /// Elements so far: the next tensor's offset.
    public private(set) var count = 0
    /// The name prefix of the layer being declared ("1.").
    var prefix = ""

    /// An empty layout (a ``Sequential`` makes its own; this is for a layer used alone).
    public init() {}

    /// Appends a tensor named `prefix + name` of `shape`; `decays`: whether weight decay applies
    /// (matrices and embeddings yes, gains and biases no).
    public mutating func add(_ name: String, shape: [Int], decays: Bool) -> ParameterTensor {
        let tensor = ParameterTensor(name: prefix + name, offset: count, shape: shape, decays: decays)
        tensors.append(tensor)
        count += tensor.count
        return tensor
    }
}

/// Shared by the layers of one model at one batch size: the largest batch, the matrix
/// products in the model's compute dtype (fp32 sgemm, or bf16 through oneDNN) and the
/// attention tiles.
public final class ActivationPlan {
    /// Samples per batch the activations hold.
    public let maxBatch: Int
    /// The precision of the linear layers' products.
    public let dtype: ComputeDType
    /// Rows x widest input and output of the linear layers (the bf16 operand buffers).
    private var linearInputs = 0, linearOutputs = 0
    private let parameterCount: Int
    private var made: (any LinearProducts)?
    private var tiles = FlatBuffer(count: 0)
    private var tileSlots = 0, tilePositions = 0, tileHeadSize = 0

    /// For `maxBatch` samples of a model of `parameterCount` parameters (a ``Sequential``
    /// makes its own; this is for a layer used alone).
    public init(maxBatch: Int, dtype: ComputeDType = .fp32, parameterCount: Int) {
        precondition(maxBatch >= 1 && parameterCount >= 0, "maxBatch \(maxBatch) must be >= 1")
        self.maxBatch = maxBatch
        self.dtype = dtype
        self.parameterCount = parameterCount
    }

    /// A linear layer says the widest operands it multiplies: rows x inputs, rows x outputs.
    package func reserveLinear(inputs: Int, outputs: Int) {
        linearInputs = max(linearInputs, inputs)
        linearOutputs = max(linearOutputs, outputs)
    }

    /// The linear layers' products (made on first use, after every layer reserved).
    package var products: any LinearProducts {
        if let made { return made }
        let p: any LinearProducts = dtype == .bf16
            ? BF16Products(parameters: parameterCount, inputs: linearInputs, outputs: linearOutputs) : FP32Products()
        made = p
        return p
    }

    /// Per-thread attention tiles at `positions` and `headSize` for `ComputeThreads.count`
    /// threads: (tiles, slots).
    package func attentionTiles(positions: Int, headSize: Int) -> (UnsafeMutablePointer<Float>, Int) {
        if ComputeThreads.count > tileSlots || positions > tilePositions || headSize > tileHeadSize {
            tileSlots = max(tileSlots, ComputeThreads.count)
            tilePositions = max(tilePositions, positions)
            tileHeadSize = max(tileHeadSize, headSize)
            tiles = FlatBuffer(count: tileSlots * attentionScratchFloats(T: tilePositions, headSize: tileHeadSize))
        }
        return (tiles.pointer, tileSlots)
    }

    /// Bytes of the shared buffers (bf16 operands, attention tiles).
    public var bytes: Int { (made?.bytes ?? 0) + tiles.bytes }
}
