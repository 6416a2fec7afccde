import Basics
import DeterministicRandom
import Model

/// A model as a list of layers ending in logits, with softmax cross-entropy on top.
///
/// ```swift
/// let model = try Sequential(input: [2], [Linear(2, 64), ReLU(), Linear(64, 3)])
/// // model.tensors: "0.weight" [64, 2], "0.bias" [64], "2.weight" [3, 64], "2.bias" [3]
/// let loss = try model.forwardBackward(input: xs, labels: ys, params: params, grads: grads) { try segmentDone($0) }
/// ```
///
/// Parameters: each layer's tensors, in order, over one flat buffer (`tensors`, `parameterCount`).
/// Gradients: backward runs the layers reversed; each layer OVERWRITES its tensors' gradients
/// (nothing to zero), and as soon as a layer is done the model calls `segmentDone(i)` for each of
/// its tensors, last first, i indexing `segments` (one per tensor in buffer order, the
/// `Workload` default): a sharded optimizer can reduce a bucket while earlier layers still run.
/// Activations are allocated for the largest batch seen (or `allocate(batch:)`).
public final class Sequential {
    /// One sample's input shape, e.g. [2] (features) or [T] (token ids).
    public let inputShape: [Int]
    public let layers: [any Layer]
    public let loss = SoftmaxCrossEntropy()
    /// The precision of the linear layers' products.
    public let dtype: ComputeDType
    /// Every layer's tensors in buffer order, named "index.name" ("0.weight").
    public let tensors: [ParameterTensor]
    /// Elements of the flat parameter buffer the tensors tile.
    public let parameterCount: Int
    /// One segment per tensor, ascending.
    public var segments: [Range<Int>] { tensors.map(\.range) }
    /// Samples the activations hold (0 before the first pass).
    public var maxBatch: Int { plan?.maxBatch ?? 0 }

    /// shapes[i]: one sample's input shape of layer i; shapes[layers.count]: the logits'.
    private let shapes: [[Int]]
    /// layerTensors[i]: indices into `tensors` of layer i's tensors.
    private let layerTensors: [Range<Int>]
    private var plan: ActivationPlan?
    private var input: ActivationTensor?

    /// Lays out the layers' parameters and checks that each takes its predecessor's output.
    /// Throws a `LayerError` naming the first layer that does not fit, and for bf16 on a CPU
    /// without native bf16.
    public init(input: [Int], _ layers: [any Layer], dtype: ComputeDType = .fp32) throws {
        guard !layers.isEmpty else { throw LayerError("a Sequential needs at least one layer") }
        guard !input.isEmpty, input.allSatisfy({ $0 >= 1 }) else { throw LayerError("input shape \(input) must have dimensions >= 1") }
        if dtype == .bf16, let reason = BF16Support.refusalReason() { throw LayerError("\(reason); use dtype .fp32") }
        var shapes = [input]
        var parameters = LayerParameters()
        var layerTensors: [Range<Int>] = []
        for (i, layer) in layers.enumerated() {
            if i > 0 && !layer.differentiableInput {
                throw LayerError("layer \(i) (\(type(of: layer))) takes token ids, which have no gradient: put it first")
            }
            do { shapes.append(try layer.outputShape(input: shapes[i])) } catch { throw LayerError("layer \(i): \(error)") }
            let first = parameters.tensors.count
            parameters.prefix = "\(i)."
            layer.declare(&parameters)
            layerTensors.append(first..<parameters.tensors.count)
        }
        guard parameters.count > 0 else { throw LayerError("the layers have no parameters to train") }
        self.inputShape = input
        self.layers = layers
        self.dtype = dtype
        self.shapes = shapes
        self.layerTensors = layerTensors
        tensors = parameters.tensors
        parameterCount = parameters.count
    }

    /// Allocates activations for batches of up to `batch` samples (a pass with a larger batch
    /// allocates again).
    public func allocate(batch: Int) {
        precondition(batch >= 1, "batch must be >= 1, got \(batch)")
        let plan = ActivationPlan(maxBatch: batch, dtype: dtype, parameterCount: parameterCount)
        for (i, layer) in layers.enumerated() { layer.allocate(plan, input: shapes[i]) }
        loss.allocate(maxBatch: batch, logits: shapes[layers.count])
        input = ActivationTensor(maxBatch: batch, sampleShape: inputShape)
        self.plan = plan
    }

    /// Writes every layer's initial parameters, the same on every rank for the same seed
    /// (layer i draws from its own stream of SplitMix64).
    public func initialize(_ params: ParameterValues, seed: UInt64) {
        checkBuffer(params)
        var seeds = SplitMix64(seed: seed)
        for layer in layers { layer.initialize(params, seed: seeds.next()) }
    }

    /// Samples in `input` (flat, sample after sample).
    public func batchSize(of input: [Float]) -> Int {
        let per = inputShape.reduce(1, *)
        precondition(!input.isEmpty && input.count % per == 0, "\(input.count) inputs are not whole samples of shape \(inputShape)")
        return input.count / per
    }

    /// The logits (batch, ...) for `input` (flat samples of `inputShape`), a view valid until the next pass.
    public func forward(_ input: [Float], params: ParameterValues) -> TensorView {
        checkBuffer(params)
        let batch = batchSize(of: input)
        if batch > maxBatch { allocate(batch: batch) }
        let plan = plan!, x = self.input!.view(batch: batch)
        x.copy(from: input)
        plan.products.prepare(params: params.base, count: parameterCount)
        var h = x
        for layer in layers { h = layer.forward(h, params: params) }
        return h
    }

    /// Forward, the loss against `labels` (one per row of the logits), and backward: WRITES
    /// the gradient of the MEAN loss over the rows into `grads[tensor]` for every tensor, calling
    /// `segmentDone(i)` as each tensor's gradient is final, last first. Returns the summed loss.
    public func forwardBackward(input: [Float], labels: [Int], params: ParameterValues, grads: GradientSink,
                                segmentDone: (Int) throws -> Void) rethrows -> BatchLoss {
        let logits = forward(input, params: params)
        let result = loss.forward(logits, labels: labels, gradient: true)
        var dout = loss.backward()
        for (i, layer) in layers.enumerated().reversed() {
            if let dx = layer.backward(dout, params: params, grads: grads, inputGradient: i > 0) { dout = dx }
            for k in layerTensors[i].reversed() { try segmentDone(k) }
        }
        return result
    }

    /// The summed loss and correct rows over `input` and `labels`, forward only, in batches of
    /// at most `maxBatch` samples (allocating for the whole input when nothing is yet).
    public func evaluate(input: [Float], labels: [Int], params: ParameterValues) -> BatchLoss {
        let total = batchSize(of: input), per = inputShape.reduce(1, *)
        precondition(labels.count % total == 0, "\(labels.count) labels for \(total) samples")
        let rowsPer = labels.count / total
        let chunk = maxBatch > 0 ? maxBatch : total
        var sums = BatchLoss()
        for lo in stride(from: 0, to: total, by: chunk) {
            let hi = min(total, lo + chunk)
            let logits = forward(Array(input[lo * per..<hi * per]), params: params)
            sums = sums + loss.forward(logits, labels: Array(labels[lo * rowsPer..<hi * rowsPer]), gradient: false)
        }
        return sums
    }

    private func checkBuffer(_ params: ParameterValues) {
        precondition(params.count >= parameterCount, "parameters hold \(params.count) elements, the model needs \(parameterCount)")
    }
}
