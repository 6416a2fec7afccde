import DeterministicRandom

/// Where one dense layer's parameters live in the flat buffer.
/// Weights are (outputs, inputs) row-major at `weightOffset`; biases (outputs) at `biasOffset`.
public struct DenseLayout: Sendable, Equatable {
    public let inputs: Int
    public let outputs: Int
    public let weightOffset: Int
    public let biasOffset: Int

    public init(inputs: Int, outputs: Int, weightOffset: Int, biasOffset: Int) {
        self.inputs = inputs
        self.outputs = outputs
        self.weightOffset = weightOffset
        self.biasOffset = biasOffset
    }

    public var weightCount: Int { inputs * outputs }
    public var parameterCount: Int { inputs * outputs + outputs }
}

/// A multilayer perceptron: dense layers with ReLU between them, softmax cross-entropy on top.
///
/// The struct is only the shape and the layout; parameters live in a caller-owned flat
/// buffer of `parameterCount` Floats (W0, b0, W1, b1, ... packed with no padding).
public struct MLP: Sendable, Equatable {
    public let inputs: Int
    public let hidden: [Int]
    public let classes: Int
    public let layers: [DenseLayout]
    /// Exact number of parameters, no padding (the trainer pads for sharding).
    public let parameterCount: Int

    public init(inputs: Int, hidden: [Int], classes: Int) {
        precondition(inputs >= 1 && classes >= 1 && hidden.allSatisfy { $0 >= 1 },
                     "MLP sizes must be >= 1: \(inputs), \(hidden), \(classes)")
        self.inputs = inputs
        self.hidden = hidden
        self.classes = classes
        let sizes = [inputs] + hidden + [classes]
        var layers: [DenseLayout] = []
        var offset = 0
        for l in 0..<sizes.count - 1 {
            let (i, o) = (sizes[l], sizes[l + 1])
            layers.append(DenseLayout(inputs: i, outputs: o, weightOffset: offset, biasOffset: offset + i * o))
            offset += i * o + o
        }
        self.layers = layers
        self.parameterCount = offset
    }

    /// fc{l}.weight (outputs, inputs), decayed; fc{l}.bias (outputs), not decayed.
    public var tensors: [ParameterTensor] {
        layers.enumerated().flatMap { l, layer in
            [ParameterTensor(name: "fc\(l).weight", offset: layer.weightOffset, shape: [layer.outputs, layer.inputs], decays: true),
             ParameterTensor(name: "fc\(l).bias", offset: layer.biasOffset, shape: [layer.outputs], decays: false)]
        }
    }

    /// e.g. "784-1024-512-10".
    public var shapeDescription: String {
        ([inputs] + hidden + [classes]).map(String.init).joined(separator: "-")
    }

    /// The widest layer output (sizes the gradient scratch; the input gradient is never formed).
    var maxWidth: Int { (hidden + [classes]).max()! }

    /// Kaiming/He-uniform weights, zero biases, deterministic from `seed`.
    ///
    /// Hidden layers (followed by ReLU): U(-b, b), b = sqrt(6 / fan_in) (gain sqrt 2).
    /// Output layer (followed by softmax): b = 1 / sqrt(fan_in), Kaiming-uniform with
    /// a = sqrt 5 as in PyTorch's nn.Linear, so the initial logits are small and the
    /// first loss is close to ln(classes).
    public func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for (l, layer) in layers.enumerated() {
            let fanIn = Double(layer.inputs)
            let bound = l == layers.count - 1 ? (1 / fanIn).squareRoot() : (6 / fanIn).squareRoot()
            let w = params + layer.weightOffset
            for k in 0..<layer.weightCount {
                w[k] = Float((2 * rng.nextUnit() - 1) * bound)
            }
            (params + layer.biasOffset).update(repeating: 0, count: layer.outputs)
        }
    }
}
