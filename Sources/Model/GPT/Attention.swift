#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenBLAS

// Causal multi-head self-attention, the core between c_attn and c_proj.
// B = batch, T = positions, C = width, NH = heads, hs = C / NH (head size).
// qkv is (B, T, 3C): q, k, v side by side, each (B, T, NH, hs), so head h of batch b is a
// (T, hs) matrix with row stride 3C; the products run per (b, h) as sgemm with that stride
// (no transposes, no per-token loops).

/// att (B, NH, T, T) = causal softmax(q k^T / sqrt(hs)): row i holds probabilities over j <= i and 0 above
/// out (B, T, C)     = att v, heads side by side
func attentionForward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                      qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    for b in 0..<B {
        for h in 0..<NH {
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let a = att + (b * NH + h) * T * T
            // a (T, T) = scale * q (T, hs) k^T (hs, T)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(hs),
                        scale, q, Int32(3 * C), k, Int32(3 * C), 0, a, Int32(T))
            causalSoftmaxForward(a, T: T)
            // out (T, hs) = a (T, T) v (T, hs), written into the head's columns of (T, C)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hs), Int32(T),
                        1, a, Int32(T), v, Int32(3 * C), 0, out + b * T * C + h * hs, Int32(C))
        }
    }
}

/// In place over a (T, T) score matrix: row i becomes softmax over j <= i, zeros above the diagonal.
func causalSoftmaxForward(_ a: UnsafeMutablePointer<Float>, T: Int) {
    for i in 0..<T {
        let row = a + i * T
        var m = row[0]
        for j in 1..<(i + 1) where row[j] > m { m = row[j] }
        var sum: Float = 0
        for j in 0...i {
            let e = expf(row[j] - m)
            row[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0...i { row[j] *= inv }
        for j in (i + 1)..<T { row[j] = 0 }
    }
}

/// Given dout (B, T, C), per (b, h):
///   datt = dout v^T;  dv = att^T dout
///   dpre = att * (datt - rowsum(att * datt))   (softmax backward; 0 above the diagonal)
///   dq = scale dpre k;  dk = scale dpre^T q
/// dqkv (B, T, 3C) is overwritten; `scratch` holds T * T floats.
func attentionBackward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                       B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    let (t, h3, c, s) = (Int32(T), Int32(3 * C), Int32(C), Int32(hs))
    for b in 0..<B {
        for h in 0..<NH {
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs
            let dk = dq + C
            let dv = dq + 2 * C
            let a = att + (b * NH + h) * T * T
            let dy = dout + b * T * C + h * hs
            // scratch (T, T) = dy (T, hs) v^T (hs, T)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, s, 1, dy, c, v, h3, 0, scratch, t)
            // dv (T, hs) = a^T (T, T) dy (T, hs)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, s, t, 1, a, t, dy, c, 0, dv, h3)
            causalSoftmaxBackward(scratch, att: a, T: T)
            // dq (T, hs) = scale dpre (T, T) k (T, hs)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, s, t, scale, scratch, t, k, h3, 0, dq, h3)
            // dk (T, hs) = scale dpre^T (T, T) q (T, hs)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, s, t, scale, scratch, t, q, h3, 0, dk, h3)
        }
    }
}

/// In place: d (T, T) holds datt on entry, the gradient w.r.t. the pre-softmax scores on exit.
func causalSoftmaxBackward(_ d: UnsafeMutablePointer<Float>, att: UnsafePointer<Float>, T: Int) {
    for i in 0..<T {
        let row = d + i * T
        let p = att + i * T
        var dot: Float = 0
        for j in 0...i { dot += p[j] * row[j] }
        for j in 0...i { row[j] = p[j] * (row[j] - dot) }
        for j in (i + 1)..<T { row[j] = 0 }
    }
}
