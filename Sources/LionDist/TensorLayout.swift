import LionEngine
import Model

/// Names a model's tensors over one flat buffer: each `add` appends a tensor right after the
/// previous one, so the tensors tile `[0, count)` in order.
///
/// ```swift
/// var layout = TensorLayout()
/// let w = try layout.add("fc.weight", shape: [10, 784])            // decays
/// let b = try layout.add("fc.bias", shape: [10], decays: false)    // does not
/// // w.range == 0..<7840, b.range == 7840..<7850, layout.count == 7850
/// ```
public struct TensorLayout: Sendable {
    /// The tensors so far, in buffer order.
    public private(set) var tensors: [ParameterTensor] = []
    /// Elements so far: the next tensor's offset.
    public private(set) var count = 0

    /// An empty layout.
    public init() {}

    /// Appends a tensor. `decays`: whether the optimizer's weight decay applies to it (matrices
    /// and embeddings yes; gains and biases no, as nanoGPT's param groups). Throws a
    /// `LionDistError` for an empty or repeated name, or a shape with a dimension below 1.
    @discardableResult
    public mutating func add(_ name: String, shape: [Int], decays: Bool = true) throws -> ParameterTensor {
        guard !name.isEmpty else { throw LionDistError(.invalidArgument, "tensor names must not be empty") }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw LionDistError(.invalidArgument, "tensor \"\(name)\" is named twice; give each tensor its own name")
        }
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 1 }) else {
            throw LionDistError(.invalidArgument, "tensor \"\(name)\": shape \(shape) must have dimensions >= 1")
        }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int(Int32.max) * 64 else {
                throw LionDistError(.invalidArgument, "tensor \"\(name)\": shape \(shape) is too large")
            }
            elements = product
        }
        let tensor = ParameterTensor(name: name, offset: count, shape: shape, decays: decays)
        tensors.append(tensor)
        count += elements
        return tensor
    }

    /// Checks that `tensors` tile `[0, n)` in offset order with distinct names, as a model's
    /// tensors must; returns n.
    static func check(_ tensors: [ParameterTensor]) throws -> Int {
        guard !tensors.isEmpty else { throw LionDistError(.invalidArgument, "a model needs at least one tensor") }
        var at = 0
        var names = Set<String>()
        for t in tensors.sorted(by: { $0.offset < $1.offset }) {
            guard names.insert(t.name).inserted else {
                throw LionDistError(.invalidArgument, "tensor \"\(t.name)\" is named twice; give each tensor its own name")
            }
            guard t.offset == at else {
                throw LionDistError(.invalidArgument, "tensor \"\(t.name)\" starts at \(t.offset), expected \(at): tensors must tile the flat buffer without gaps or overlaps (build them with TensorLayout)")
            }
            at += t.count
        }
        return at
    }
}

/// A PyTorch-style parameter group: some tensors, by name, with their own learning-rate
/// multiplier, weight decay and betas.
///
/// ```swift
/// // the embedding learns at half the rate, without decay; the head with its own betas
/// let groups = [TensorGroup(tensors: ["wte"], lrScale: 0.5, weightDecay: 0),
///               TensorGroup(tensors: ["head.weight"], betas: (0.95, 0.98))]
/// ```
/// Tensors in no group take the optimizer's options: `weightDecay` if they decay, 0 if not.
public struct TensorGroup: Sendable {
    /// The names of this group's tensors.
    public var tensors: [String]
    /// Multiplies the scheduled learning rate.
    public var lrScale: Float
    /// This group's weight decay (divided by the initial lr when the options say decoupled);
    /// nil: `OptimizerOptions.weightDecay`, applied to every tensor of the group.
    public var weightDecay: Float?
    /// This group's (b1, b2); nil: the options'.
    public var betas: (Float, Float)?

    /// A group of `tensors` (names).
    public init(tensors: [String], lrScale: Float = 1, weightDecay: Float? = nil, betas: (Float, Float)? = nil) {
        self.tensors = tensors
        self.lrScale = lrScale
        self.weightDecay = weightDecay
        self.betas = betas
    }

    /// The engine's groups for `tensors` (buffer order) and the padding after them: each
    /// tensor's settings from its group, or the options' defaults. Throws for an unknown or
    /// repeated name and for bad settings.
    static func engineGroups(_ groups: [TensorGroup], tensors: [ParameterTensor], options: OptimizerOptions,
                             paddedCount: Int) throws -> [ParameterGroup] {
        var owner: [String: Int] = [:]
        let known = Set(tensors.map(\.name))
        for (i, g) in groups.enumerated() {
            guard g.lrScale > 0, g.lrScale.isFinite else {
                throw LionDistError(.invalidArgument, "group \(i): lrScale must be > 0 and finite, got \(g.lrScale)")
            }
            if let wd = g.weightDecay, !(wd >= 0 && options.engineWeightDecay(wd).isFinite) {
                throw LionDistError(.invalidArgument, "group \(i): weightDecay must be >= 0 and finite, got \(wd)")
            }
            if let (b1, b2) = g.betas, !((0..<1).contains(b1) && (0..<1).contains(b2)) {
                throw LionDistError(.invalidArgument, "group \(i): betas must be in [0, 1), got (\(b1), \(b2))")
            }
            for name in g.tensors {
                guard known.contains(name) else {
                    throw LionDistError(.invalidArgument, "group \(i) names tensor \"\(name)\", which the model does not have")
                }
                if let other = owner.updateValue(i, forKey: name) {
                    throw LionDistError(.invalidArgument, "tensor \"\(name)\" is in groups \(other) and \(i); put it in one")
                }
            }
        }
        var out: [ParameterGroup] = []
        for t in tensors.sorted(by: { $0.offset < $1.offset }) {
            if let i = owner[t.name] {
                let g = groups[i]
                out.append(ParameterGroup(range: t.range, weightDecay: options.engineWeightDecay(g.weightDecay ?? options.weightDecay),
                                          lrScale: g.lrScale, beta1: g.betas?.0, beta2: g.betas?.1))
            } else {
                out.append(ParameterGroup(range: t.range, weightDecay: t.decays ? options.engineWeightDecay(options.weightDecay) : 0))
            }
        }
        let end = out.last?.range.upperBound ?? 0
        if end < paddedCount { out.append(ParameterGroup(range: end..<paddedCount, weightDecay: 0)) }
        return out
    }
}
