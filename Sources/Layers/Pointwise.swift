import Basics
import Model

/// What an elementwise activation shares: no parameters, its input's shape, and storage for
/// its output and its input's gradient.
public class Elementwise {
    var out: ActivationTensor!, dx: ActivationTensor!

    init() {}

    public func declare(_ parameters: inout LayerParameters) {}
    public func outputShape(input: [Int]) throws -> [Int] { input }
    public func initialize(_ params: ParameterValues, seed: UInt64) {}

    public func allocate(_ plan: ActivationPlan, input: [Int]) {
        out = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input)
        dx = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: input)
    }
}

/// max(x, 0), elementwise (the MLP's kernels). Its input gradient is dout where the output is
/// positive, 0 elsewhere (0 at x = 0).
public final class ReLU: Elementwise, Layer {
    public override init() {}

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        let y = out.view(batch: x.batch)
        y.base.update(from: x.base, count: x.count)
        reluForward(y.base, count: y.count)
        return y
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        guard inputGradient else { return nil }
        let d = dx.view(batch: dout.batch)
        d.base.update(from: dout.base, count: dout.count)
        reluBackward(dout: d.base, out: out.view(batch: dout.batch).base, count: d.count)
        return d
    }
}

/// GELU, tanh approximation (GPT-2), elementwise: the GPT's SIMD kernels.
public final class GELU: Elementwise, Layer {
    private var x: TensorView?

    public override init() {}

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        self.x = x
        let y = out.view(batch: x.batch)
        geluForward(out: y.base, x: x.base, count: x.count)
        return y
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        guard inputGradient, let x else { return nil }
        let d = dx.view(batch: x.batch)
        geluBackward(dx: d.base, x: x.base, dout: dout.base, count: x.count)
        return d
    }
}
