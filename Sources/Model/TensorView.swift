import Basics

/// One tensor's elements: its row-major `shape` over contiguous fp32 storage that someone else
/// owns (the combiner's parameters, a gradient slot, a layer's workspace). A view, not an owner:
/// valid as long as that storage is (parameters: the optimizer's life; a gradient: until its
/// segment is handed off).
///
/// ```swift
/// let w = params[weight]          // shape [out, in]
/// let y = w[2, 5] * x             // element (row 2, column 5)
/// grads[weight].fill(0)
/// ```
///
/// Writing through a view of the parameters is for initialization and checkpoint loading only
/// (every rank writes the same values); during a step the optimizer owns them.
public struct TensorView: @unchecked Sendable {
    /// Row-major shape, e.g. [out, in].
    public let shape: [Int]
    /// Elements in the view.
    public let count: Int
    /// The first element. Package-internal: kernels and the MPI layer take it; users index.
    package let base: UnsafeMutablePointer<Float>

    package init(_ base: UnsafeMutablePointer<Float>, shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 >= 1 }, "bad tensor view shape \(shape)")
        self.base = base
        self.shape = shape
        self.count = shape.reduce(1, *)
    }

    /// Element `i` of the flat (row-major) order.
    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of \(shape)"); return base[i] }
        nonmutating set { precondition(i >= 0 && i < count, "index \(i) out of \(shape)"); base[i] = newValue }
    }

    /// Element (row, column) of a 2-D tensor.
    public subscript(row: Int, column: Int) -> Float {
        get { base[offset(row, column)] }
        nonmutating set { base[offset(row, column)] = newValue }
    }

    func offset(_ row: Int, _ column: Int) -> Int {
        precondition(shape.count == 2 && row >= 0 && row < shape[0] && column >= 0 && column < shape[1],
                     "index (\(row), \(column)) out of \(shape)")
        return row * shape[1] + column
    }

    /// Row `r` of the first dimension, as a view of shape `shape.dropFirst()` (a vector for a matrix).
    public func row(_ r: Int) -> TensorView {
        precondition(r >= 0 && r < shape[0], "row \(r) out of \(shape)")
        let rest = shape.count > 1 ? Array(shape.dropFirst()) : [1]
        return TensorView(base + r * (count / shape[0]), shape: rest)
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { base.update(repeating: value, count: count) }

    /// Copies `values` (exactly `count` of them, flat row-major order) in.
    public func copy(from values: [Float]) {
        precondition(values.count == count, "\(values.count) values for a tensor of \(count) elements \(shape)")
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
    }

    /// The elements, flat row-major order.
    public var elements: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

/// A model's parameters (or a full-size gradient): the flat buffer, read tensor by tensor
/// (`params[tensor]`) or element by element (`params[i]`).
public struct ParameterValues: @unchecked Sendable {
    /// Elements of the buffer the tensors tile (`[0, count)`).
    public let count: Int
    package let base: UnsafeMutablePointer<Float>

    package init(_ base: UnsafeMutablePointer<Float>, count: Int) {
        self.base = base
        self.count = count
    }

    /// Flat element `i` of the buffer (`0..<count`).
    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of \(count)"); return base[i] }
        nonmutating set { precondition(i >= 0 && i < count, "index \(i) out of \(count)"); base[i] = newValue }
    }

    /// Every element, flat.
    public var elements: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The view of `tensor`'s elements.
    public subscript(tensor: ParameterTensor) -> TensorView {
        precondition(tensor.range.upperBound <= count, "tensor \(tensor.name) \(tensor.range) beyond the buffer's \(count) elements")
        return TensorView(base + tensor.offset, shape: tensor.shape)
    }
}

extension GradientSink {
    /// Where `tensor`'s gradient goes this step, as a view of its shape (with sharded gradients,
    /// a staging slot of the tensor's bucket). Writes replace; a view asked again later in the
    /// same backward sees what was written.
    public subscript(tensor: ParameterTensor) -> TensorView {
        TensorView(at(tensor.offset), shape: tensor.shape)
    }
}
