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
