#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Causal multi-head self-attention, the core between c_attn and c_proj, as one fused, blocked
// kernel (FlashAttention, Dao et al. 2022; the backward of FlashAttention-2).
// B = batch, T = positions, C = width, NH = heads, hs = C / NH (head size).
// qkv is (B, T, 3C): q, k, v side by side, each (B, T, NH, hs), so head h of batch b is a
// (T, hs) matrix with row stride 3C. Per (b, h) item, query rows go in tiles of `tile` rows
// and meet key tiles of the same size; query tile i needs key tiles 0...i only (causality:
// at T = 256 and tiles of 64, 10 of the 16 tiles). The (T, T) probabilities are never
// stored: the forward keeps a running row maximum and sum (online softmax) and saves one
// logsumexp per row; the backward recomputes each probability tile from q, k and it.
// The tile products are single-threaded sgemm calls with those strides; the items are
// split over the threads, one thread per item, each in a fixed order, so the results do not
// depend on the thread count.

/// Query and key rows per tile: at 64 (against 32 and 128) a GPT step at T = 256 and at T = 64
/// was fastest (GPTAttentionBenchmarkTests).
let attentionTile = 64

/// Floats of one thread's scratch: two (tile, tile) tiles and two per-row vectors.
func attentionScratchFloats(tile: Int = attentionTile) -> Int { 2 * tile * tile + 2 * tile }

/// Splits `count` items into one contiguous range per slot, at most `slots` slots (a slot is
/// one thread's scratch), and runs `body(slot, items)` on the threads.
func forEachSlot(_ count: Int, slots: Int, _ body: (Int, Range<Int>) -> Void) {
    let n = min(slots, BLASThreads.current, count)
    parallelRanges(n) { ss in
        for s in ss { body(s, (count * s / n)..<(count * (s + 1) / n)) }
    }
}

/// out (B, T, C) = causal softmax(q k^T / sqrt(hs)) v, heads side by side
/// lse (B, NH, T) = per query row, log sum_j<=i exp(q_i . k_j / sqrt(hs)) (what the backward needs)
/// `scratch` holds `slots` x attentionScratchFloats(tile:) floats.
func attentionForward(out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>, slots: Int, B: Int, T: Int, C: Int, NH: Int,
                      tile Bt: Int = attentionTile) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    forEachSlot(B * NH, slots: slots) { slot, items in
        let s = scratch + slot * attentionScratchFloats(tile: Bt)   // (Bt, Bt) scores, then probabilities
        let m = s + 2 * Bt * Bt                                      // running row maxima
        let l = m + Bt                                               // running row sums
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let o = out + b * T * C + h * hs
            for r0 in stride(from: 0, to: T, by: Bt) {
                let R = min(Bt, T - r0)
                for c0 in stride(from: 0, through: r0, by: Bt) {
                    let N = min(Bt, T - c0)
                    // s (R, N) = scale q[r0..<r0+R] k[c0..<c0+N]^T
                    sgemm(false, true, M: R, N: N, K: hs, alpha: scale, q + r0 * 3 * C, lda: 3 * C, k + c0 * 3 * C, ldb: 3 * C,
                          s, ldc: Bt, accumulate: false)
                    for i in 0..<R {
                        let row = s + i * Bt
                        let n = min(N, r0 + i - c0 + 1)          // keys j <= query r0 + i
                        let mNew = c0 == 0 ? rowMax(row, n) : max(m[i], rowMax(row, n))
                        let sum = expRow(row, n, minus: mNew, width: N)
                        if c0 == 0 {
                            l[i] = sum
                        } else {
                            // Rescale what the earlier key tiles gave: their exponents were taken at m[i].
                            let alpha = mNew > m[i] ? expf(m[i] - mNew) : 1
                            l[i] = l[i] * alpha + sum
                            if alpha != 1 { scaleRow(o + (r0 + i) * C, hs, by: alpha) }
                        }
                        m[i] = mNew
                    }
                    // o[r0..<r0+R] (R, hs) += s (R, N) v[c0..<c0+N] (N, hs); the first key tile overwrites
                    sgemm(false, false, M: R, N: hs, K: N, s, lda: Bt, v + c0 * 3 * C, ldb: 3 * C,
                          o + r0 * C, ldc: C, accumulate: c0 != 0)
                }
                for i in 0..<R {
                    scaleRow(o + (r0 + i) * C, hs, by: 1 / l[i])
                    lse[item * T + r0 + i] = m[i] + logf(l[i])
                }
            }
        }
    }
}

/// Given dout (B, T, C), the forward's out and lse, per (b, h) and per tile (query rows i, keys j):
///   p = exp(scale q k^T - lse_i) (0 above the diagonal);  dv_j += p^T dout_i
///   dp = dout_i v_j^T;  ds = p * (dp - D_i), D_i = rowsum(dout_i * out_i)   (softmax backward)
///   dq_i += scale ds k_j;  dk_j += scale ds^T q_i
/// dqkv (B, T, 3C) is overwritten; `scratch` as in the forward.
func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                       out: UnsafePointer<Float>, lse: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                       slots: Int, B: Int, T: Int, C: Int, NH: Int, tile Bt: Int = attentionTile) {
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    forEachSlot(B * NH, slots: slots) { slot, items in
        let p = scratch + slot * attentionScratchFloats(tile: Bt)   // (Bt, Bt) probabilities
        let ds = p + Bt * Bt                                         // (Bt, Bt) dp, then ds
        let D = ds + Bt * Bt                                         // (Bt) D_i
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let q = qkv + b * T * 3 * C + h * hs
            let k = q + C
            let v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs
            let dk = dq + C
            let dv = dq + 2 * C
            let o = out + b * T * C + h * hs
            let dy = dout + b * T * C + h * hs
            let rowLSE = lse + item * T
            for r0 in stride(from: 0, to: T, by: Bt) {
                let R = min(Bt, T - r0)
                for i in 0..<R { D[i] = dotRow(dy + (r0 + i) * C, o + (r0 + i) * C, hs) }
                for c0 in stride(from: 0, through: r0, by: Bt) {
                    let N = min(Bt, T - c0)
                    // Key tile c0 is first met by query tile r0 = c0 (the diagonal; r0 ascends), query
                    // tile r0 first by key tile 0: those products overwrite, the rest add.
                    sgemm(false, true, M: R, N: N, K: hs, alpha: scale, q + r0 * 3 * C, lda: 3 * C, k + c0 * 3 * C, ldb: 3 * C,
                          p, ldc: Bt, accumulate: false)
                    for i in 0..<R {
                        _ = expRow(p + i * Bt, min(N, r0 + i - c0 + 1), minus: rowLSE[r0 + i], width: N)
                    }
                    // dv[c0..<c0+N] (N, hs) += p^T (N, R) dy[r0..<r0+R] (R, hs)
                    sgemm(true, false, M: N, N: hs, K: R, p, lda: Bt, dy + r0 * C, ldb: C,
                          dv + c0 * 3 * C, ldc: 3 * C, accumulate: c0 != r0)
                    // ds (R, N) = dy[r0..<r0+R] (R, hs) v[c0..<c0+N]^T (hs, N), then p * (ds - D)
                    sgemm(false, true, M: R, N: N, K: hs, dy + r0 * C, lda: C, v + c0 * 3 * C, ldb: 3 * C,
                          ds, ldc: Bt, accumulate: false)
                    for i in 0..<R { softmaxBackwardRow(ds + i * Bt, p: p + i * Bt, D[i], N) }
                    // dq[r0..<r0+R] (R, hs) += scale ds (R, N) k[c0..<c0+N] (N, hs)
                    sgemm(false, false, M: R, N: hs, K: N, alpha: scale, ds, lda: Bt, k + c0 * 3 * C, ldb: 3 * C,
                          dq + r0 * 3 * C, ldc: 3 * C, accumulate: c0 != 0)
                    // dk[c0..<c0+N] (N, hs) += scale ds^T (N, R) q[r0..<r0+R] (R, hs)
                    sgemm(true, false, M: N, N: hs, K: R, alpha: scale, ds, lda: Bt, q + r0 * 3 * C, ldb: 3 * C,
                          dk + c0 * 3 * C, ldc: 3 * C, accumulate: c0 != r0)
                }
            }
        }
    }
}

// Row helpers over SIMD8 with scalar tails; each sums in a fixed order.

/// max of row[0..<n], n >= 1
@inline(__always)
func rowMax(_ row: UnsafePointer<Float>, _ n: Int) -> Float {
    let whole = n & ~7
    var mv = F8(repeating: -.infinity)
    for j in stride(from: 0, to: whole, by: 8) { mv = pointwiseMax(mv, load8(row + j)) }
    var m = mv.max()
    for j in whole..<n { m = max(m, row[j]) }
    return m
}

/// row[j] = exp(row[j] - shift) for j < n, 0 for n <= j < width; returns the sum of the exponentials.
@inline(__always)
func expRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float, width: Int) -> Float {
    let whole = n & ~7
    var sv = F8()
    for j in stride(from: 0, to: whole, by: 8) {
        let e = fastExp(load8(row + j) - shift)
        store8(e, row + j)
        sv += e
    }
    var sum = sv.sum()
    if whole < n {
        let e = fastExp(loadPartial(row + whole, n - whole) - shift)
        storePartial(e, row + whole, n - whole)
        for l in 0..<(n - whole) { sum += e[l] }
    }
    for j in n..<width { row[j] = 0 }
    return sum
}

/// d[j] = p[j] (d[j] - D), j < n
@inline(__always)
func softmaxBackwardRow(_ d: UnsafeMutablePointer<Float>, p: UnsafePointer<Float>, _ D: Float, _ n: Int) {
    let whole = n & ~7
    for j in stride(from: 0, to: whole, by: 8) { store8(load8(p + j) * (load8(d + j) - D), d + j) }
    for j in whole..<n { d[j] = p[j] * (d[j] - D) }
}

/// sum over j < n of a[j] b[j]
@inline(__always)
func dotRow(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let whole = n & ~7
    var sv = F8()
    for j in stride(from: 0, to: whole, by: 8) { sv += load8(a + j) * load8(b + j) }
    var sum = sv.sum()
    for j in whole..<n { sum += a[j] * b[j] }
    return sum
}

/// row[j] *= s, j < n
@inline(__always)
func scaleRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, by s: Float) {
    let whole = n & ~7
    for j in stride(from: 0, to: whole, by: 8) { store8(load8(row + j) * s, row + j) }
    for j in whole..<n { row[j] *= s }
}
