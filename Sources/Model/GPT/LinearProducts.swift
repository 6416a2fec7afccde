import Basics

/// The precision of the GPT's matrix products. The parameters, the optimizer, the gradients,
/// LayerNorm, softmax, GELU, the loss and the residual stream are fp32 in both.
public enum ComputeDType: String, CaseIterable, Sendable {
    /// OpenBLAS sgemm.
    case fp32
    /// bf16 inputs, fp32 accumulation, through oneDNN's matmul (native on CPUs with AVX512-BF16
    /// or AMX; refused elsewhere); the GPT keeps its product operands in bf16 (BF16Activations.swift).
    case bf16
}

/// The products of the GPT's linear layers and its tied head, in one compute dtype: the one
/// interface both dtypes go through. Weights are named by their offset in the flat fp32
/// parameters, so an implementation may keep its own copy of them in another format.
/// Not thread-safe: one per workspace.
package protocol LinearProducts: AnyObject {
    /// Before a pass over `params` (count elements): the bf16 products take their weights' copy here.
    func prepare(params: UnsafePointer<Float>, count: Int)
    /// out (N, O) = x (N, I) W^T (+ residual), W = params[w...] (O, I).
    func forward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int,
                 N: Int, I: Int, O: Int, residual: UnsafePointer<Float>?)
    /// dw (O, I) = dout^T x (overwritten); dx (N, I) = dout W (overwritten, or added when `accumulate`).
    func backward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                  x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int, N: Int, I: Int, O: Int, accumulate: Bool)
    /// Bytes of its own buffers.
    var bytes: Int { get }
}

/// fp32 through the models' `sgemm` (OpenBLAS): the layer functions of Linear.swift.
package final class FP32Products: LinearProducts {
    package init() {}

    package func prepare(params: UnsafePointer<Float>, count: Int) {}

    package func forward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int,
                 N: Int, I: Int, O: Int, residual: UnsafePointer<Float>?) {
        linearForward(out: out, x: x, w: params + w, N: N, I: I, O: O, residual: residual)
    }

    package func backward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                  x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int, N: Int, I: Int, O: Int, accumulate: Bool) {
        linearBackward(dx: dx, dw: dw, dout: dout, x: x, w: params + w, N: N, I: I, O: O, accumulate: accumulate)
    }

    package var bytes: Int { 0 }
}

/// bf16 through oneDNN: a bf16 copy of the parameters (`BF16Weights`: private and refreshed by
/// `prepare`, once per pass, or held and refreshed by its owner), the layer's input and output
/// gradient narrowed to bf16 per call (a memory-speed pass), and the products split over the
/// compute threads (`BF16SplitGEMM`).
package final class BF16Products: LinearProducts {
    let weights: BF16Weights
    let input: AlignedBuffer<UInt16>    // a layer's x, (N, I)
    let output: AlignedBuffer<UInt16>   // a layer's dout, (N, O)
    let products = BF16SplitGEMM()

    /// `weights` of the model's parameters; rows x widest input / output of any layer.
    package init(weights: BF16Weights, inputs: Int, outputs: Int) {
        self.weights = weights
        input = AlignedBuffer(count: inputs)
        output = AlignedBuffer(count: outputs)
    }

    /// A private copy of `parameters` elements.
    package convenience init(parameters: Int, inputs: Int, outputs: Int) {
        self.init(weights: BF16Weights(count: parameters), inputs: inputs, outputs: outputs)
    }

    package var bytes: Int { weights.privateBytes + 2 * (input.count + output.count) }

    package func prepare(params: UnsafePointer<Float>, count: Int) {
        if weights.refreshesPerPass { weights.refresh(from: params, range: 0..<count) }
    }

    package func forward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int,
                 N: Int, I: Int, O: Int, residual: UnsafePointer<Float>?) {
        BF16Convert.narrow(x, to: input.pointer, count: N * I)
        forward(out: out, x16: input.pointer, w: w, N: N, I: I, O: O, residual: residual)
    }

    package func backward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                  x: UnsafePointer<Float>, params: UnsafePointer<Float>, w: Int, N: Int, I: Int, O: Int, accumulate: Bool) {
        BF16Convert.narrow(x, to: input.pointer, count: N * I)
        backward(dx: dx, dw: dw, dout: dout, x16: input.pointer, w: w, N: N, I: I, O: O, accumulate: accumulate)
    }

    /// oneDNN's kernel for the widest forward product (e.g. "brg:avx512_core_bf16"), for the banner.
    func implementation(N: Int, I: Int, O: Int) -> String {
        products.implementation(false, true, M: N, N: O, K: I, lda: I, ldb: I, ldc: O)
    }
}
