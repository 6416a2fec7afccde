#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scalar reference kernels written straight from the equations, one element at a time.
/// The SIMD kernels and `LocalOptimizer` are tested against these element by element; the
/// trainer's tests may use them too. Slow on purpose: no SIMD, no chunking, no threads.
public enum Reference {
    /// sign(x) with sign(0) = sign(-0) = 0 (and 0 for NaN).
    public static func sign(_ x: Float) -> Float {
        if x > 0 { return 1 }
        if x < 0 { return -1 }
        return 0
    }

    /// One Lion step over fp32 state.
    public static func lionStep(params p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                                m: UnsafeMutablePointer<Float>, count: Int,
                                lr: Float, beta1 b1: Float, beta2 b2: Float, weightDecay wd: Float,
                                gradScale: Float = 1) {
        for i in 0..<count {
            let g = grads[i] * gradScale                       // effective gradient
            let c = b1 * m[i] + (1 - b1) * g                   // c = b1*m + (1-b1)*g (sign only)
            p[i] = p[i] * (1 - lr * wd) - lr * sign(c)         // p = p*(1-lr*wd) - lr*sign(c)
            m[i] = b2 * m[i] + (1 - b2) * g                    // m = b2*m + (1-b2)*g
        }
    }

    /// One Lion step over bf16 state (m stored as bf16 bits, math in fp32, RNE on store).
    public static func lionStep(params p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                                m: UnsafeMutablePointer<UInt16>, count: Int,
                                lr: Float, beta1 b1: Float, beta2 b2: Float, weightDecay wd: Float,
                                gradScale: Float = 1) {
        for i in 0..<count {
            let g = grads[i] * gradScale                       // effective gradient
            let mf = BFloat16.toFloat(m[i])                    // widen stored momentum
            let c = b1 * mf + (1 - b1) * g                     // c = b1*m + (1-b1)*g (sign only)
            p[i] = p[i] * (1 - lr * wd) - lr * sign(c)         // p = p*(1-lr*wd) - lr*sign(c)
            m[i] = BFloat16.fromFloat(b2 * mf + (1 - b2) * g)  // m = b2*m + (1-b2)*g, rounded
        }
    }

    /// One cautious Lion step over ONE whole tensor, fp32 state (lion-pytorch 0.2.5's
    /// `cautious_lion.Lion`, with the decoupled decay first as there):
    /// the sign, the mask, the scale and its mean over the tensor summed in Float in element order.
    /// Returns how many elements were aligned.
    @discardableResult
    public static func cautiousLionStep(params p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                                        m: UnsafeMutablePointer<Float>, count: Int,
                                        lr: Float, beta1 b1: Float, beta2 b2: Float, weightDecay wd: Float,
                                        factor: Float, gradScale: Float = 1) -> Int {
        var u = [Float](repeating: 0, count: count), scale = [Float](repeating: 0, count: count)
        var aligned = 0
        for i in 0..<count {
            let g = grads[i] * gradScale                       // effective gradient
            p[i] = p[i] * (1 - lr * wd)                        // p.mul_(1 - lr*wd)
            u[i] = sign(b1 * m[i] + (1 - b1) * g)              // u = sign(b1*m + (1-b1)*g)
            let mask = u[i] * g > 0                            // align_mask = (u * g) > 0
            scale[i] = mask ? 1 : factor                       // scale = where(mask, 1, factor)
            if mask { aligned += 1 }
        }
        var sum: Float = 0
        for s in scale { sum += s }                            // scale.mean()
        let mean = max(sum / Float(count), 1e-5)               // .clamp(min=1e-5)
        for i in 0..<count {
            let g = grads[i] * gradScale
            let update = u[i] * (scale[i] / mean)              // u * (scale / mean)
            p[i] = p[i] - lr * update                          // p.add_(update, alpha=-lr)
            m[i] = b2 * m[i] + (1 - b2) * g                    // m = b2*m + (1-b2)*g
        }
        return aligned
    }

    /// One AdamW step over fp32 state; `step` is t, the 1-based count including this step.
    public static func adamwStep(params p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                                 m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                                 lr: Float, beta1 b1: Float, beta2 b2: Float, eps: Float, weightDecay wd: Float,
                                 step t: Int, gradScale: Float = 1) {
        let bc1 = Float(1 - pow(Double(b1), Double(t)))        // 1 - b1^t
        let bc2 = Float(1 - pow(Double(b2), Double(t)))        // 1 - b2^t
        for i in 0..<count {
            let g = grads[i] * gradScale                       // effective gradient
            m[i] = b1 * m[i] + (1 - b1) * g                    // m = b1*m + (1-b1)*g
            v[i] = b2 * v[i] + (1 - b2) * g * g                // v = b2*v + (1-b2)*g*g
            let mhat = m[i] / bc1                              // mhat = m / (1-b1^t)
            let vhat = v[i] / bc2                              // vhat = v / (1-b2^t)
            p[i] = p[i] * (1 - lr * wd) - lr * mhat / (vhat.squareRoot() + eps)  // decoupled decay + step
        }
    }

    /// One AdamW step over bf16 state (m, v stored as bf16; p uses this step's unrounded m, v).
    public static func adamwStep(params p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                                 m: UnsafeMutablePointer<UInt16>, v: UnsafeMutablePointer<UInt16>, count: Int,
                                 lr: Float, beta1 b1: Float, beta2 b2: Float, eps: Float, weightDecay wd: Float,
                                 step t: Int, gradScale: Float = 1) {
        let bc1 = Float(1 - pow(Double(b1), Double(t)))        // 1 - b1^t
        let bc2 = Float(1 - pow(Double(b2), Double(t)))        // 1 - b2^t
        for i in 0..<count {
            let g = grads[i] * gradScale                       // effective gradient
            let mf = b1 * BFloat16.toFloat(m[i]) + (1 - b1) * g      // m = b1*m + (1-b1)*g
            let vf = b2 * BFloat16.toFloat(v[i]) + (1 - b2) * g * g  // v = b2*v + (1-b2)*g*g
            let mhat = mf / bc1                                // mhat = m / (1-b1^t)
            let vhat = vf / bc2                                // vhat = v / (1-b2^t)
            p[i] = p[i] * (1 - lr * wd) - lr * mhat / (vhat.squareRoot() + eps)  // decoupled decay + step
            m[i] = BFloat16.fromFloat(mf)                      // store rounded
            v[i] = BFloat16.fromFloat(vf)
        }
    }

    /// Array convenience: one Lion step over fp32 state.
    public static func lionStep(params: inout [Float], grads: [Float], m: inout [Float],
                                lr: Float, beta1: Float, beta2: Float, weightDecay: Float, gradScale: Float = 1) {
        precondition(params.count == grads.count && params.count == m.count)
        let n = params.count
        params.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { mm in
                grads.withUnsafeBufferPointer { g in
                    lionStep(params: p.baseAddress!, grads: g.baseAddress!, m: mm.baseAddress!, count: n,
                             lr: lr, beta1: beta1, beta2: beta2, weightDecay: weightDecay, gradScale: gradScale)
                }
            }
        }
    }

    /// Array convenience: one AdamW step over fp32 state.
    public static func adamwStep(params: inout [Float], grads: [Float], m: inout [Float], v: inout [Float],
                                 lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float,
                                 step: Int, gradScale: Float = 1) {
        precondition(params.count == grads.count && params.count == m.count && params.count == v.count)
        let n = params.count
        params.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { mm in
                v.withUnsafeMutableBufferPointer { vv in
                    grads.withUnsafeBufferPointer { g in
                        adamwStep(params: p.baseAddress!, grads: g.baseAddress!, m: mm.baseAddress!,
                                  v: vv.baseAddress!, count: n, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                                  weightDecay: weightDecay, step: step, gradScale: gradScale)
                    }
                }
            }
        }
    }
}
