import Basics
import DeterministicRandom
import Model

/// out (rows, outputs) = x (rows, inputs) W^T + b, W (outputs, inputs) (PyTorch's nn.Linear
/// layout), over the last dimension. The products are the GPT's (`LinearProducts`: OpenBLAS
/// sgemm split over the compute threads, or bf16 through oneDNN), the bias the MLP's.
/// Initialization: W and b uniform in +-1/sqrt(inputs) (PyTorch's default).
public final class Linear: Layer {
    public let inputs: Int, outputs: Int
    /// Whether it adds a bias (the GPT's layers do not).
    public let hasBias: Bool
    public private(set) var weight: ParameterTensor?
    public private(set) var bias: ParameterTensor?
    private var plan: ActivationPlan!
    private var out: ActivationTensor!, dx: ActivationTensor!
    private var x: TensorView?

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true) {
        precondition(inputs >= 1 && outputs >= 1, "Linear(\(inputs), \(outputs)): sizes must be >= 1")
        self.inputs = inputs
        self.outputs = outputs
        hasBias = bias
    }

    public func declare(_ parameters: inout LayerParameters) {
        weight = parameters.add("weight", shape: [outputs, inputs], decays: true)
        if hasBias { bias = parameters.add("bias", shape: [outputs], decays: false) }
    }

    public func outputShape(input: [Int]) throws -> [Int] {
        let last = try lastDimension(input, "Linear(\(inputs), \(outputs))")
        guard last == inputs else { throw LayerError("Linear(\(inputs), \(outputs)) takes \(inputs) features, its input has \(last) (shape \(input))") }
        return input.dropLast() + [outputs]
    }

    public func allocate(_ plan: ActivationPlan, input: [Int]) {
        self.plan = plan
        let rows = plan.maxBatch * input.dropLast().reduce(1, *)
        plan.reserveLinear(inputs: rows * inputs, outputs: rows * outputs)
        out = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input.dropLast() + [outputs])
        dx = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input)
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let bound = 1 / Float(inputs).squareRoot()
        for t in [weight, bias].compactMap({ $0 }) {
            let v = params[t]
            for k in 0..<v.count { v[k] = bound * Float(2 * rng.nextUnit() - 1) }
        }
    }

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        self.x = x
        let y = out.view(batch: x.batch)
        plan.products.forward(out: y.base, x: x.base, params: params.base, w: weight!.offset, N: x.rows, I: inputs, O: outputs,
                              residual: nil)
        if let bias { biasForward(out: y.base, b: params[bias].base, N: x.rows, O: outputs) }
        return y
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        let x = self.x!
        let d = dx.view(batch: x.batch)
        // dW = dout^T x and dx = dout W (both overwritten); dx is computed either way.
        plan.products.backward(dx: d.base, dw: grads[weight!].base, dout: dout.base, x: x.base, params: params.base,
                               w: weight!.offset, N: x.rows, I: inputs, O: outputs, accumulate: false)
        if let bias { biasBackward(db: grads[bias].base, dout: dout.base, N: x.rows, O: outputs) }
        return inputGradient ? d : nil
    }
}
