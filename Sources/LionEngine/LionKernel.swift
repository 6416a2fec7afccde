import CKernels

/// Per-step constants of the Lion update, computed once per step so that the kernels and
/// `Reference.lionStep` see the very same Float values.
public struct LionStepConstants: Sendable {
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    /// 1 - lr*wd: the decoupled weight decay factor.
    public var decay: Float
    public var gradScale: Float

    public init(lr: Float, beta1: Float, beta2: Float, weightDecay: Float, gradScale: Float) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.decay = 1 - lr * weightDecay
        self.gradScale = gradScale
    }
}

/// Lion over one chunk of raw buffers (SIMD8 body, scalar tail). Per element, in fp32:
/// ```
/// g = grad * gradScale
/// c = b1*m + (1-b1)*g              // only sign(c) is used; sign(0) = sign(-0) = 0
/// p = p*(1 - lr*wd) - lr*sign(c)
/// m = b2*m + (1-b2)*g
/// ```
/// The operation order is the reference's, so results are bitwise equal to `Reference.lionStep`.
/// A NaN `c` has sign 0 (p keeps only the decay); m becomes NaN. The trainer skips steps with
/// non-finite gradients before they get here.
public enum LionKernel {
    /// fp32 state, on `path` (default: the fastest this CPU supports).
    public static func updateFP32(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<Float>, count: Int, _ k: LionStepConstants,
                                  path: KernelPath = .best) {
        switch path {
        case .avx2, .avx512:  // fp32 Lion is memory-bound on one core with AVX2; no AVX-512 version
            precondition(path.isSupported, "AVX2 kernels on a CPU without AVX2")
            ck_lion_fp32_avx2(p, g, m, count, k.c)
        case .portable:
            updateFP32Portable(params: p, grads: g, m: m, count: count, k)
        }
    }

    /// bf16 state, on `path` (default: the fastest this CPU supports).
    public static func updateBF16(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<UInt16>, count: Int, _ k: LionStepConstants,
                                  path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_lion_bf16_avx512(p, g, m, count, k.c)
        case .avx2:
            precondition(path.isSupported, "AVX2 kernels on a CPU without AVX2")
            ck_lion_bf16_avx2(p, g, m, count, k.c)
        case .portable:
            updateBF16Portable(params: p, grads: g, m: m, count: count, k)
        }
    }

    /// fp32 state, Swift SIMD8 (any CPU).
    @inlinable
    public static func updateFP32Portable(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<Float>, count: Int, _ k: LionStepConstants) {
        let b1 = k.beta1, c1 = 1 - k.beta1, b2 = k.beta2, c2 = 1 - k.beta2
        let lr = k.lr, decay = k.decay, scale = k.gradScale
        var i = 0
        while i + 8 <= count {
            let gv = load8(g, i) * scale
            let mv = load8(m, i)
            let c = b1 * mv + c1 * gv
            let pv = load8(p, i) * decay - lrSign(c, lr)
            store8(pv, p, i)
            store8(b2 * mv + c2 * gv, m, i)
            i += 8
        }
        while i < count {
            let gs = g[i] * scale
            let c = b1 * m[i] + c1 * gs
            p[i] = p[i] * decay - lr * sign(c)
            m[i] = b2 * m[i] + c2 * gs
            i += 1
        }
    }

    /// bf16 state, Swift SIMD8 (any CPU): m is widened exactly, the math is fp32, the new m is
    /// rounded to nearest even.
    @inlinable
    public static func updateBF16Portable(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<UInt16>, count: Int, _ k: LionStepConstants) {
        let b1 = k.beta1, c1 = 1 - k.beta1, b2 = k.beta2, c2 = 1 - k.beta2
        let lr = k.lr, decay = k.decay, scale = k.gradScale
        var i = 0
        while i + 8 <= count {
            let gv = load8(g, i) * scale
            let mv = BFloat16.toFloat(load8(m, i))
            let c = b1 * mv + c1 * gv
            let pv = load8(p, i) * decay - lrSign(c, lr)
            store8(pv, p, i)
            store8(BFloat16.fromFloat(b2 * mv + c2 * gv), m, i)
            i += 8
        }
        while i < count {
            let gs = g[i] * scale
            let mf = BFloat16.toFloat(m[i])
            let c = b1 * mf + c1 * gs
            p[i] = p[i] * decay - lr * sign(c)
            m[i] = BFloat16.fromFloat(b2 * mf + c2 * gs)
            i += 1
        }
    }

    /// lr*sign(c) lane by lane, with sign(+-0) = sign(NaN) = 0, built from bits: lr with c's
    /// sign bit, kept where 0 < |c|. Bitwise equal to `lr * sign(c)` (lr*1, lr*-1 and +0 are
    /// exact) and about half the instructions of two compares and blends plus a multiply.
    @inlinable @inline(__always)
    static func lrSign(_ c: SIMD8<Float>, _ lr: Float) -> SIMD8<Float> {
        let bits = unsafeBitCast(c, to: SIMD8<UInt32>.self)
        let magnitude = unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let signed = (bits & 0x8000_0000) | lr.bitPattern
        let kept = signed.replacing(with: 0, where: .!(magnitude .> 0))
        return unsafeBitCast(kept, to: SIMD8<Float>.self)
    }

    /// +1, -1 or 0 (for +-0 and NaN).
    @inlinable @inline(__always)
    public static func sign(_ c: Float) -> Float {
        c > 0 ? 1 : (c < 0 ? -1 : 0)
    }
}
