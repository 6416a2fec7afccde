@testable import Model

// The plain attention kernels the model used before the fused one (Attention.swift), kept as
// the test reference for it: they store the (B, NH, T, T) probabilities and take a
// B * NH * T * T scratch in the backward. Float, sgemm per causal row block, so they round
// like the fused kernel and can be compared element by element (the Double reference in
// GPTReference.swift is too slow at T = 1024).

// Causal multi-head self-attention, the core between c_attn and c_proj.
// B = batch, T = positions, C = width, NH = heads, hs = C / NH (head size).
// qkv is (B, T, 3C): q, k, v side by side, each (B, T, NH, hs), so head h of batch b is a
// (T, hs) matrix with row stride 3C; the products run per (b, h) as sgemm with that stride
// (no transposes, no per-token loops). Causality saves work: query rows go in blocks
// [r0, r1), and a block needs keys 0..<r1 only (at T = 64, two blocks of 32: 3/4 of the
// full T x T products).

/// Query-row blocks for the causal products: ~4 blocks of at least 32 rows.
func causalBlocks(_ T: Int) -> [Range<Int>] {
    let size = max(32, (T + 3) / 4)
    return stride(from: 0, to: T, by: size).map { $0..<min(T, $0 + size) }
}

/// att (B, NH, T, T) = causal softmax(q k^T / sqrt(hs)): row i holds probabilities over j <= i and 0 above
/// out (B, T, C)     = att v, heads side by side
func plainAttentionForward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                      qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    let blocks = causalBlocks(T)
    out.update(repeating: 0, count: B * T * C)        // the heads' products add into it
    parallelRanges(B * NH) { items in
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let a = att + item * T * T
            // a[r0..<r1, 0..<r1] = scale * q[r0..<r1] (R, hs) k[0..<r1]^T (hs, r1)
            for blk in blocks {
                let (r0, r1) = (blk.lowerBound, blk.upperBound)
                sgemm(false, true, M: r1 - r0, N: r1, K: hs, alpha: scale, q + r0 * 3 * C, lda: 3 * C, k, ldb: 3 * C,
                      a + r0 * T, ldc: T, accumulate: false)
            }
            causalSoftmaxForward(a, T: T)   // zeros every j > i, including what the blocks skipped
            // out[r0..<r1] (R, hs) = a[r0..<r1, 0..<r1] v[0..<r1] (r1, hs), in the head's columns of (T, C), zeroed above
            for blk in blocks {
                let (r0, r1) = (blk.lowerBound, blk.upperBound)
                sgemm(false, false, M: r1 - r0, N: hs, K: r1, a + r0 * T, lda: T, v, ldb: 3 * C,
                      out + (b * T + r0) * C + h * hs, ldc: C, accumulate: true)
            }
        }
    }
}

/// In place over a (T, T) score matrix: row i becomes softmax over j <= i, zeros above the diagonal.
func causalSoftmaxForward(_ a: UnsafeMutablePointer<Float>, T: Int) {
    for i in 0..<T {
        let row = a + i * T
        let n = i + 1
        let whole = n & ~7
        var mv = F8(repeating: -.infinity)
        for j in stride(from: 0, to: whole, by: 8) {
            let x = load8(row + j)
            mv.replace(with: x, where: x .> mv)
        }
        if whole < n {
            let x = loadPartial(row + whole, n - whole, fill: -.infinity)
            mv.replace(with: x, where: x .> mv)
        }
        let m = mv.max()
        var sv = F8()
        for j in stride(from: 0, to: whole, by: 8) {
            let e = fastExp(load8(row + j) - m)
            store8(e, row + j)
            sv += e
        }
        var sum = sv.sum()
        if whole < n {
            let e = fastExp(loadPartial(row + whole, n - whole) - m)
            storePartial(e, row + whole, n - whole)
            for l in 0..<(n - whole) { sum += e[l] }
        }
        let inv = 1 / sum
        for j in 0..<n { row[j] *= inv }
        for j in n..<T { row[j] = 0 }
    }
}

/// Given dout (B, T, C), per (b, h):
///   datt = dout v^T;  dv = att^T dout
///   dpre = att * (datt - rowsum(att * datt))   (softmax backward; 0 above the diagonal)
///   dq = scale dpre k;  dk = scale dpre^T q
/// dqkv (B, T, 3C) is overwritten; `scratch` holds B * NH * T * T floats (one (T, T) per (b, h),
/// so the heads run in parallel).
func plainAttentionBackward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                       B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    let blocks = causalBlocks(T)
    dqkv.update(repeating: 0, count: B * T * 3 * C)   // the heads' products add into it
    parallelRanges(B * NH) { items in
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let scratch = scratch + item * T * T
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs
            let dk = dq + C
            let dv = dq + 2 * C
            let a = att + item * T * T
            let dy = dout + b * T * C + h * hs
            // Per row block [r0, r1), R = r1 - r0; dqkv is zeroed above, so the products add.
            for blk in blocks {
                let (r0, r1) = (blk.lowerBound, blk.upperBound)
                // scratch[r0..<r1, 0..<r1] = dy[r0..<r1] (R, hs) v[0..<r1]^T (hs, r1)
                sgemm(false, true, M: r1 - r0, N: r1, K: hs, dy + r0 * C, lda: C, v, ldb: 3 * C,
                      scratch + r0 * T, ldc: T, accumulate: false)
                // dv[0..<r1] (r1, hs) += a[r0..<r1, 0..<r1]^T (r1, R) dy[r0..<r1] (R, hs)
                sgemm(true, false, M: r1, N: hs, K: r1 - r0, a + r0 * T, lda: T, dy + r0 * C, ldb: C,
                      dv, ldc: 3 * C, accumulate: true)
            }
            causalSoftmaxBackward(scratch, att: a, T: T)
            for blk in blocks {
                let (r0, r1) = (blk.lowerBound, blk.upperBound)
                // dq[r0..<r1] (R, hs) = scale dpre[r0..<r1, 0..<r1] (R, r1) k[0..<r1] (r1, hs)
                sgemm(false, false, M: r1 - r0, N: hs, K: r1, alpha: scale, scratch + r0 * T, lda: T, k, ldb: 3 * C,
                      dq + r0 * 3 * C, ldc: 3 * C, accumulate: true)
                // dk[0..<r1] (r1, hs) += scale dpre[r0..<r1, 0..<r1]^T (r1, R) q[r0..<r1] (R, hs)
                sgemm(true, false, M: r1, N: hs, K: r1 - r0, alpha: scale, scratch + r0 * T, lda: T, q + r0 * 3 * C, ldb: 3 * C,
                      dk, ldc: 3 * C, accumulate: true)
            }
        }
    }
}

/// In place: d (T, T) holds datt on entry, the gradient w.r.t. the pre-softmax scores on exit.
func causalSoftmaxBackward(_ d: UnsafeMutablePointer<Float>, att: UnsafePointer<Float>, T: Int) {
    for i in 0..<T {
        let row = d + i * T
        let p = att + i * T
        let n = i + 1
        let whole = n & ~7
        var dv = F8()
        for j in stride(from: 0, to: whole, by: 8) { dv += load8(p + j) * load8(row + j) }
        var dot = dv.sum()
        for j in whole..<n { dot += p[j] * row[j] }
        for j in stride(from: 0, to: whole, by: 8) { store8(load8(p + j) * (load8(row + j) - dot), row + j) }
        for j in whole..<n { row[j] = p[j] * (row[j] - dot) }
        for j in n..<T { row[j] = 0 }
    }
}
