/// Where backward writes gradients. A model addresses a tensor's gradient by the tensor's
/// flat offset (the same offset as its parameters) and writes its elements contiguously from
/// the pointer it gets. The sink decides where those elements live this step: in a full-size
/// flat buffer (`FlatGradients`), or, with sharded gradients, in a staging slot of the bucket
/// that holds the tensor, valid until backward reports that bucket's last segment done.
///
/// A model asks for a tensor's pointer just before it writes it, and may ask again to add to
/// it later in the same backward (the GPT's tied embedding).
public protocol GradientSink {
    /// The gradient storage of the tensor whose first element is at flat `offset`.
    func at(_ offset: Int) -> UnsafeMutablePointer<Float>
}

/// A full-size flat gradient buffer: a tensor's gradient is at `base + offset`.
public struct FlatGradients: GradientSink {
    public let base: UnsafeMutablePointer<Float>

    public init(_ base: UnsafeMutablePointer<Float>) { self.base = base }

    public func at(_ offset: Int) -> UnsafeMutablePointer<Float> { base + offset }
}
