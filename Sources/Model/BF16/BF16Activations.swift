import Basics
import CKernels

// Activations in the compute dtype's storage format. In bf16 compute (as PyTorch's autocast)
// the activations that are matrix-product operands are kept in bf16: c_attn's output qkv, the
// attention output, c_fc's output, and the LayerNorm / GELU outputs that feed products, which
// are written straight in bf16. Their math stays fp32 (each kernel widens its bf16 input and
// narrows its output once, rounding to nearest even, `BF16Convert`); the residual stream, the
// LayerNorm statistics, the loss and every gradient stay fp32. In fp32 compute each of these
// is the fp32 kernel itself, called with the same arguments.

/// A pointer to activations in their storage format: fp32, or bf16 bit patterns.
package enum ActivationPointer {
    case fp32(UnsafeMutablePointer<Float>)
    case bf16(UnsafeMutablePointer<UInt16>)

    /// The pointer `n` elements on.
    package static func + (p: ActivationPointer, n: Int) -> ActivationPointer {
        switch p {
        case .fp32(let f): return .fp32(f + n)
        case .bf16(let h): return .bf16(h + n)
        }
    }

    /// The fp32 pointer (an fp32 workspace's activations).
    package var fp32: UnsafeMutablePointer<Float> {
        guard case .fp32(let f) = self else { preconditionFailure("bf16 activations read as fp32") }
        return f
    }
}

/// `count` activations in `dtype`'s storage format (4 or 2 bytes each), zeroed, 64-byte aligned.
package final class ActivationBuffer {
    package let count: Int
    package let pointer: ActivationPointer
    /// count x elementBytes(dtype).
    package let bytes: Int
    private let storage: AnyObject

    package init(count: Int, dtype: ComputeDType) {
        self.count = count
        bytes = count * Self.elementBytes(dtype)
        switch dtype {
        case .fp32:
            let b = FlatBuffer(count: count)
            (pointer, storage) = (.fp32(b.pointer), b)
        case .bf16:
            let b = AlignedBuffer<UInt16>(count: count)
            (pointer, storage) = (.bf16(b.pointer), b)
        }
    }

    /// Bytes per element in `dtype`'s storage format.
    package static func elementBytes(_ dtype: ComputeDType) -> Int { dtype == .bf16 ? 2 : 4 }
}

/// fp32 elements of one thread's stack scratch in the bf16 kernels below (16 KiB: stays in L1).
let bf16ChunkFloats = 4096

/// out (N, C) = LayerNorm(x) in out's format; mean, rstd fp32 as `layerNormForward`. bf16:
/// bf16(the fp32 output), on AVX-512 narrowed in registers, elsewhere each chunk of rows through
/// the fp32 kernel into scratch, then narrowed.
package func layerNormForward(out: ActivationPointer, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                              x: UnsafePointer<Float>, w: UnsafePointer<Float>, N: Int, C: Int) {
    switch out {
    case .fp32(let o):
        layerNormForward(out: o, mean: mean, rstd: rstd, x: x, w: w, N: N, C: C)
    case .bf16(let o) where kernelsUseAVX512:
        parallelRanges(N) { r in
            ck_layernorm_forward_bf16_avx512(o + r.lowerBound * C, mean + r.lowerBound, rstd + r.lowerBound,
                                             x + r.lowerBound * C, w, r.count, C, layerNormEps)
        }
    case .bf16(let o):
        let rows = max(1, bf16ChunkFloats / C)
        parallelRanges(N, grain: rows) { r in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * C) { tmp in
                let t = tmp.baseAddress!
                for lo in stride(from: r.lowerBound, to: r.upperBound, by: rows) {
                    let n = min(rows, r.upperBound - lo)
                    layerNormForward(out: t, mean: mean + lo, rstd: rstd + lo, x: x + lo * C, w: w, N: n, C: C)
                    BF16Convert.narrowOnThisThread(t, to: o + lo * C, count: n * C)
                }
            }
        }
    }
}

/// out = gelu(x), both in the same format. bf16: widened, the fp32 kernel, narrowed (on
/// AVX-512 in registers, one kernel; elsewhere per chunk through scratch: the same bits).
package func geluForward(out: ActivationPointer, x: ActivationPointer, count: Int) {
    switch (out, x) {
    case (.fp32(let o), .fp32(let i)):
        geluForward(out: o, x: i, count: count)
    case (.bf16(let o), .bf16(let i)) where kernelsUseAVX512:
        parallelRanges(count, grain: geluGrain) { r in ck_gelu_bf16_avx512(o + r.lowerBound, i + r.lowerBound, r.count) }
    case (.bf16(let o), .bf16(let i)):
        bf16Chunks(count, scratch: 2) { lo, n, t in
            BF16Convert.widenOnThisThread(i + lo, to: t, count: n)
            geluForward(out: t + bf16ChunkFloats, x: t, count: n)
            BF16Convert.narrowOnThisThread(t + bf16ChunkFloats, to: o + lo, count: n)
        }
    default:
        preconditionFailure("gelu between fp32 and bf16 activations")
    }
}

/// dx (fp32) = dout (fp32) * gelu'(x), x in its format (bf16: widened in registers on AVX-512,
/// per chunk elsewhere); dx may be dout.
package func geluBackward(dx: UnsafeMutablePointer<Float>, x: ActivationPointer, dout: UnsafePointer<Float>, count: Int) {
    switch x {
    case .fp32(let i):
        geluBackward(dx: dx, x: i, dout: dout, count: count)
    case .bf16(let i) where kernelsUseAVX512:
        parallelRanges(count, grain: geluGrain) { r in
            ck_gelu_backward_bf16_avx512(dx + r.lowerBound, i + r.lowerBound, dout + r.lowerBound, r.count)
        }
    case .bf16(let i):
        bf16Chunks(count, scratch: 1) { lo, n, t in
            BF16Convert.widenOnThisThread(i + lo, to: t, count: n)
            geluBackward(dx: dx + lo, x: t, dout: dout + lo, count: n)
        }
    }
}

/// Backward's recompute of out = gelu(fc). fp32: fc is REPLACED by gelu'(fc), from the same
/// tanh (`geluBackward(dx:recomputed:...)` reads it); bf16: fc stays (its slope is taken from the
/// widened fc in backward, so the gradient is not rounded to bf16 a second time).
package func geluRecompute(out: ActivationPointer, fc: ActivationPointer, count: Int) {
    switch (out, fc) {
    case (.fp32(let o), .fp32(let x)): geluForward(out: o, slope: x, x: x, count: count)
    default: geluForward(out: out, x: fc, count: count)
    }
}

/// dx (fp32) = dout * gelu'(fc) after `geluRecompute`: fp32 reads the slope it left in fc,
/// bf16 the widened fc. dx may be dout.
package func geluBackward(dx: UnsafeMutablePointer<Float>, recomputed fc: ActivationPointer, dout: UnsafePointer<Float>, count: Int) {
    switch fc {
    case .fp32(let slope): geluBackward(dx: dx, dout: dout, slope: slope, count: count)
    case .bf16: geluBackward(dx: dx, x: fc, dout: dout, count: count)
    }
}

/// body(first, count, scratch) over 0..<count in chunks of `bf16ChunkFloats`, split over the
/// threads, with `scratch` x bf16ChunkFloats floats of the thread's stack.
private func bf16Chunks(_ count: Int, scratch: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
    parallelRanges(count, grain: bf16ChunkFloats) { r in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch * bf16ChunkFloats) { tmp in
            for lo in stride(from: r.lowerBound, to: r.upperBound, by: bf16ChunkFloats) {
                body(lo, min(bf16ChunkFloats, r.upperBound - lo), tmp.baseAddress!)
            }
        }
    }
}
