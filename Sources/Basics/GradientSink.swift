/// Where backward writes gradients. A model addresses a tensor's gradient by the tensor
/// (`grads[tensor]`, a typed view; kernels take `at(offset)`, the tensor's flat offset, the
/// same as its parameters') and writes its elements contiguously. The storage decides where
/// those elements live this step: in a full-size flat buffer (`FlatGradients`), or, with
/// sharded gradients, in a staging slot of the bucket that holds the tensor, valid until
/// backward reports that bucket's last segment done.
///
/// A model asks for a tensor's gradient just before it writes it, and may ask again to add to
/// it later in the same backward (the GPT's tied embedding).
public struct GradientSink {
    package let storage: any GradientStorage

    package init(_ storage: any GradientStorage) { self.storage = storage }

    /// A full-size flat buffer: a tensor's gradient is at `base + offset`.
    package static func flat(_ base: UnsafeMutablePointer<Float>) -> GradientSink { GradientSink(FlatGradients(base)) }

    /// The gradient storage of the tensor whose first element is at flat `offset`.
    package func at(_ offset: Int) -> UnsafeMutablePointer<Float> { storage.at(offset) }
}

/// What holds a step's gradients behind a `GradientSink` (a flat buffer, staging slots).
package protocol GradientStorage {
    /// The gradient storage of the tensor whose first element is at flat `offset`.
    func at(_ offset: Int) -> UnsafeMutablePointer<Float>
}

/// A full-size flat gradient buffer: a tensor's gradient is at `base + offset`.
package struct FlatGradients: GradientStorage {
    package let base: UnsafeMutablePointer<Float>

    package init(_ base: UnsafeMutablePointer<Float>) { self.base = base }

    package func at(_ offset: Int) -> UnsafeMutablePointer<Float> { base + offset }
}
