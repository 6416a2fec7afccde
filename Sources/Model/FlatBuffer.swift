import Basics

/// The model's activations, gradients and batches: zeroed, 64-byte aligned Float buffers.
/// The flat parameter and gradient buffers themselves belong to the gradient combiners
/// (Sharding); the model sees them as pointers with tensor views (`ParameterTensor`).
public typealias FlatBuffer = AlignedBuffer<Float>
