import Basics
import Model

/// (x - mean) / sqrt(var + 1e-5) * gain over the last dimension, without a bias (the GPT's
/// LayerNorm and its SIMD kernels). Initialization: gain 1.
public final class LayerNorm: Layer {
    public let width: Int
    public private(set) var gain: ParameterTensor?
    private var out: ActivationTensor!, dx: ActivationTensor!, mean: ActivationTensor!, rstd: ActivationTensor!
    private var x: TensorView?

    public init(_ width: Int) {
        precondition(width >= 1, "LayerNorm(\(width)): width must be >= 1")
        self.width = width
    }

    public func declare(_ parameters: inout LayerParameters) {
        gain = parameters.add("weight", shape: [width], decays: false)
    }

    public func outputShape(input: [Int]) throws -> [Int] {
        let last = try lastDimension(input, "LayerNorm(\(width))")
        guard last == width else { throw LayerError("LayerNorm(\(width)) normalizes \(width) features, its input has \(last) (shape \(input))") }
        return input
    }

    public func allocate(_ plan: ActivationPlan, input: [Int]) {
        out = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input)
        dx = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input)
        let rows = input.dropLast().reduce(1, *)
        mean = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: [rows])
        rstd = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: [rows])
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) { params[gain!].fill(1) }

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        self.x = x
        let y = out.view(batch: x.batch)
        layerNormForward(out: y.base, mean: mean.view(batch: x.batch).base, rstd: rstd.view(batch: x.batch).base,
                         x: x.base, w: params[gain!].base, N: x.rows, C: width)
        return y
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        let x = self.x!
        let d = dx.view(batch: x.batch)
        d.fill(0)   // the kernel adds to dx (the GPT's residual gradient)
        layerNormBackward(dx: d.base, dw: grads[gain!].base, dout: dout.base, x: x.base, w: params[gain!].base,
                          mean: mean.view(batch: x.batch).base, rstd: rstd.view(batch: x.batch).base, N: x.rows, C: width)
        return inputGradient ? d : nil
    }
}
