import Basics
import Model

/// nanoGPT's CausalSelfAttention without biases: qkv = x W_attn^T (c_attn, (3C, C)), causal
/// multi-head softmax(q k^T / sqrt(C / heads)) v, out = y W_proj^T (c_proj, (C, C)), over
/// samples of shape (T, C). The GPT's kernels: its linear products (fp32 or bf16) and its fused
/// flash attention (online softmax over key tiles; the (T, T) probabilities are never stored).
/// Initialization: N(0, 0.02), as GPT-2.
public final class CausalSelfAttention: Layer {
    public let width: Int, heads: Int
    public private(set) var attention: ParameterTensor?, projection: ParameterTensor?
    private var plan: ActivationPlan!
    private var qkv: ActivationTensor!, lse: ActivationTensor!, y: ActivationTensor!, out: ActivationTensor!
    private var dy: ActivationTensor!, dqkv: ActivationTensor!, dx: ActivationTensor!
    private var x: TensorView?

    public init(width: Int, heads: Int) {
        precondition(heads >= 1 && width >= 1 && width % heads == 0,
                     "CausalSelfAttention(width: \(width), heads: \(heads)): width must be a positive multiple of heads")
        self.width = width
        self.heads = heads
    }

    public func declare(_ parameters: inout LayerParameters) {
        attention = parameters.add("c_attn.weight", shape: [3 * width, width], decays: true)
        projection = parameters.add("c_proj.weight", shape: [width, width], decays: true)
    }

    public func outputShape(input: [Int]) throws -> [Int] {
        guard input.count == 2, input[1] == width, input[0] >= 1 else {
            throw LayerError("CausalSelfAttention(width: \(width)) takes samples of shape [T, \(width)], got \(input)")
        }
        return input
    }

    public func allocate(_ plan: ActivationPlan, input: [Int]) {
        self.plan = plan
        let (B, T, C) = (plan.maxBatch, input[0], width)
        plan.reserveLinear(inputs: B * T * C, outputs: B * T * 3 * C)
        qkv = ActivationTensor(maxBatch: B, sampleShape: [T, 3 * C])
        lse = ActivationTensor(maxBatch: B, sampleShape: [heads, T])
        y = ActivationTensor(maxBatch: B, sampleShape: input)
        out = ActivationTensor(maxBatch: B, sampleShape: input)
        dy = ActivationTensor(maxBatch: B, sampleShape: input)
        dqkv = ActivationTensor(maxBatch: B, sampleShape: [T, 3 * C])
        dx = ActivationTensor(maxBatch: B, sampleShape: input)
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) {
        var gauss = BoxMuller(seed: seed)
        for t in [attention!, projection!] {
            let v = params[t]
            for k in 0..<v.count { v[k] = Float(0.02 * gauss.next()) }
        }
    }

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        self.x = x
        let (B, T, C) = (x.shape[0], x.shape[1], width)
        let (q, a, o) = (qkv.view(batch: B), y.view(batch: B), out.view(batch: B))
        plan.products.forward(out: q.base, x: x.base, params: params.base, w: attention!.offset, N: B * T, I: C, O: 3 * C,
                              residual: nil)
        let (tiles, slots) = plan.attentionTiles(positions: T, headSize: C / heads)
        attentionForward(out: a.base, lse: lse.view(batch: B).base, qkv: q.base, scratch: tiles, slots: slots,
                         B: B, T: T, C: C, NH: heads)
        plan.products.forward(out: o.base, x: a.base, params: params.base, w: projection!.offset, N: B * T, I: C, O: C,
                              residual: nil)
        return o
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        let x = self.x!
        let (B, T, C) = (x.shape[0], x.shape[1], width)
        let (q, a, d, dq, dxv) = (qkv.view(batch: B), y.view(batch: B), dy.view(batch: B), dqkv.view(batch: B), dx.view(batch: B))
        plan.products.backward(dx: d.base, dw: grads[projection!].base, dout: dout.base, x: a.base, params: params.base,
                               w: projection!.offset, N: B * T, I: C, O: C, accumulate: false)
        let (tiles, slots) = plan.attentionTiles(positions: T, headSize: C / heads)
        attentionBackward(dqkv: dq.base, dout: d.base, qkv: q.base, out: a.base, lse: lse.view(batch: B).base,
                          scratch: tiles, slots: slots, B: B, T: T, C: C, NH: heads)
        plan.products.backward(dx: dxv.base, dw: grads[attention!].base, dout: dq.base, x: x.base, params: params.base,
                               w: attention!.offset, N: B * T, I: C, O: 3 * C, accumulate: false)
        return inputGradient ? dxv : nil
    }
}
