import Basics
import Model

/// Storage a layer owns for one activation (or its gradient) at up to `maxBatch` samples of
/// `sampleShape`: zeroed, 64-byte aligned fp32, read and written through ``TensorView``s.
public final class ActivationTensor {
    /// One sample's shape.
    public let sampleShape: [Int]
    /// Samples it holds.
    public let maxBatch: Int
    let storage: FlatBuffer

    /// Storage for `maxBatch` samples of `sampleShape`.
    public init(maxBatch: Int, sampleShape: [Int]) {
        precondition(maxBatch >= 1 && !sampleShape.isEmpty && sampleShape.allSatisfy { $0 >= 1 },
                     "bad activation shape \(maxBatch) x \(sampleShape)")
        self.maxBatch = maxBatch
        self.sampleShape = sampleShape
        storage = FlatBuffer(count: maxBatch * sampleShape.reduce(1, *))
    }

    /// The first `batch` samples, shape [batch] + sampleShape.
    public func view(batch: Int) -> TensorView {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) not in 1...\(maxBatch)")
        return TensorView(storage.pointer, shape: [batch] + sampleShape)
    }

    /// Bytes held.
    public var bytes: Int { storage.bytes }
}

extension TensorView {
    /// The same elements with `shape` (the same count).
    package func reshaped(_ shape: [Int]) -> TensorView {
        precondition(shape.reduce(1, *) == count, "cannot view \(self.shape) as \(shape)")
        return TensorView(base, shape: shape)
    }

    /// Samples: the first dimension.
    package var batch: Int { shape[0] }
    /// Rows when the last dimension is the features: count / last.
    package var rows: Int { count / shape[shape.count - 1] }
}

/// The shape's last dimension, or a thrown error naming the layer.
func lastDimension(_ shape: [Int], _ layer: String) throws -> Int {
    guard let last = shape.last, shape.allSatisfy({ $0 >= 1 }) else { throw LayerError("\(layer): bad input shape \(shape)") }
    return last
}

/// A model that cannot be built as asked: one line naming the problem and the fix.
public struct LayerError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
