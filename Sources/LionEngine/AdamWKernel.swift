/// Per-step constants of the AdamW update (t is the 1-based step count).
public struct AdamWStepConstants: Sendable {
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// 1 - lr*wd.
    public var decay: Float
    /// 1 - beta1^t and 1 - beta2^t (computed in Double, rounded once).
    public var biasCorrection1: Float
    public var biasCorrection2: Float
    public var gradScale: Float

    public init(lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float,
                step t: Int, gradScale: Float) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.decay = 1 - lr * weightDecay
        self.biasCorrection1 = Float(1 - pow(Double(beta1), Double(t)))
        self.biasCorrection2 = Float(1 - pow(Double(beta2), Double(t)))
        self.gradScale = gradScale
    }
}

import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AdamW over one chunk of raw buffers (SIMD8 body, scalar tail). Per element, in fp32:
/// ```
/// g = grad * gradScale
/// m = b1*m + (1-b1)*g
/// v = b2*v + (1-b2)*g*g
/// p = p*(1 - lr*wd) - lr * (m/bc1) / (sqrt(v/bc2) + eps)
/// ```
/// Same operation order as `Reference.adamwStep` (true divisions, no reciprocal tricks), so
/// results are bitwise equal to it.
///
/// sqrt: Swift's `squareRoot()` on Linux goes through libm `sqrtf` with errno, which blocks
/// vectorization (`SIMD8.squareRoot()` became 8 guarded `sqrtss` + `sqrtf` calls). Taking the
/// magnitude first lets LLVM prove the argument non-negative, drop errno and emit `sqrtps`
/// (checked with objdump on the release .o). v >= 0 always, and sqrt(-0) + eps == sqrt(0) + eps,
/// so results are unchanged.
public enum AdamWKernel {
    /// Lane-wise sqrt(|x|); compiles to two `sqrtps`.
    @inlinable @inline(__always)
    static func sqrtNonNegative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var r = x
        for i in 0..<8 { r[i] = x[i].magnitude.squareRoot() }
        return r
    }

    /// fp32 state, on `path` (default: the fastest this CPU supports).
    public static func updateFP32(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                                  count: Int, _ k: AdamWStepConstants, path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_adamw_fp32_avx512(p, g, m, v, count, k.c)
        case .avx2:
            precondition(path.isSupported, "AVX2 kernels on a CPU without AVX2")
            ck_adamw_fp32_avx2(p, g, m, v, count, k.c)
        case .portable:
            updateFP32Portable(params: p, grads: g, m: m, v: v, count: count, k)
        }
    }

    /// bf16 state, on `path` (default: the fastest this CPU supports).
    public static func updateBF16(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<UInt16>, v: UnsafeMutablePointer<UInt16>,
                                  count: Int, _ k: AdamWStepConstants, path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_adamw_bf16_avx512(p, g, m, v, count, k.c)
        case .avx2:
            precondition(path.isSupported, "AVX2 kernels on a CPU without AVX2")
            ck_adamw_bf16_avx2(p, g, m, v, count, k.c)
        case .portable:
            updateBF16Portable(params: p, grads: g, m: m, v: v, count: count, k)
        }
    }

    /// fp32 state, Swift SIMD8 (any CPU).
    @inlinable
    public static func updateFP32Portable(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                                  count: Int, _ k: AdamWStepConstants) {
        let b1 = k.beta1, c1 = 1 - k.beta1, b2 = k.beta2, c2 = 1 - k.beta2
        let lr = k.lr, decay = k.decay, eps = k.eps, scale = k.gradScale
        let bc1 = k.biasCorrection1, bc2 = k.biasCorrection2
        var i = 0
        while i + 8 <= count {
            let gv = load8(g, i) * scale
            let mv = b1 * load8(m, i) + c1 * gv
            let vv = b2 * load8(v, i) + c2 * gv * gv
            let pv = load8(p, i) * decay - lr * (mv / bc1) / (sqrtNonNegative(vv / bc2) + eps)
            store8(pv, p, i)
            store8(mv, m, i)
            store8(vv, v, i)
            i += 8
        }
        while i < count {
            let gs = g[i] * scale
            let mi = b1 * m[i] + c1 * gs
            let vi = b2 * v[i] + c2 * gs * gs
            p[i] = p[i] * decay - lr * (mi / bc1) / ((vi / bc2).magnitude.squareRoot() + eps)
            m[i] = mi
            v[i] = vi
            i += 1
        }
    }

    /// bf16 state: m and v widened exactly, fp32 math, new m and v rounded to nearest even.
    /// p is updated from the unrounded fp32 m and v of this step. Swift SIMD8 (any CPU).
    @inlinable
    public static func updateBF16Portable(params p: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<UInt16>, v: UnsafeMutablePointer<UInt16>,
                                  count: Int, _ k: AdamWStepConstants) {
        let b1 = k.beta1, c1 = 1 - k.beta1, b2 = k.beta2, c2 = 1 - k.beta2
        let lr = k.lr, decay = k.decay, eps = k.eps, scale = k.gradScale
        let bc1 = k.biasCorrection1, bc2 = k.biasCorrection2
        var i = 0
        while i + 8 <= count {
            let gv = load8(g, i) * scale
            let mv = b1 * BFloat16.toFloat(load8(m, i)) + c1 * gv
            let vv = b2 * BFloat16.toFloat(load8(v, i)) + c2 * gv * gv
            let pv = load8(p, i) * decay - lr * (mv / bc1) / (sqrtNonNegative(vv / bc2) + eps)
            store8(pv, p, i)
            store8(BFloat16.fromFloat(mv), m, i)
            store8(BFloat16.fromFloat(vv), v, i)
            i += 8
        }
        while i < count {
            let gs = g[i] * scale
            let mi = b1 * BFloat16.toFloat(m[i]) + c1 * gs
            let vi = b2 * BFloat16.toFloat(v[i]) + c2 * gs * gs
            p[i] = p[i] * decay - lr * (mi / bc1) / ((vi / bc2).magnitude.squareRoot() + eps)
            m[i] = BFloat16.fromFloat(mi)
            v[i] = BFloat16.fromFloat(vi)
            i += 1
        }
    }
}
