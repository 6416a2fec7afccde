import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Causal multi-head self-attention, the core between c_attn and c_proj, as one fused, blocked
// kernel (FlashAttention, Dao et al. 2022; the backward of FlashAttention-2).
// B = batch, T = positions, C = width, NH = heads, hs = C / NH (head size).
// qkv is (B, T, 3C): q, k, v side by side, each (B, T, NH, hs), so head h of batch b is a
// (T, hs) matrix with row stride 3C. Per (b, h) item, the keys go in tiles of `tile` rows;
// key tile [c0, c0 + tile) meets the query rows c0..<T only (causality: the rows before c0 are
// skipped, at T = 256 and tiles of 64, 10 of the 16 (64, 64) blocks are computed), all of them
// in one product, so each tile is a few (T - c0, tile) sgemm calls. The (T, T) probabilities
// are never stored: the forward keeps each row's running maximum and sum over the key tiles
// (online softmax), rescales the partial output, and saves one logsumexp per row; the
// backward recomputes each tile's probabilities from q, k and it.
// The tile products are single-threaded sgemm calls with those strides: 3.4-4.2x faster than
// SIMD8 loops of our own for a (64, 64) tile's two forward products at hs = 32 and 64 (Swift's
// SIMD8 builds for SSE here; OpenBLAS runs AVX-512). The items are split over the threads, one
// thread per item in a fixed order, so the results do not depend on the thread count.
// The score products (q k^T, and dy v^T in the backward) run as NN on the key (value) tile
// transposed into the slot (`transpose`): at M = N = 64, K = 32 OpenBLAS's NT sgemm takes
// 3.05 us, the NN one 1.70 us (the same bits), the AVX-512 transpose of the (64, 32) tile
// 0.19 us (C microbenchmarks, OpenBLAS 0.3.21 SkylakeX kernels, 1 thread, Intel Xeon model 207).
// Cost against storing the probabilities: the backward recomputes the scores (one product
// and one exp per entry more): 1.1-1.2x the plain kernels' time at the nanoGPT shape, ~1.6x at
// the baby GPT's (hs = 32, where the exps weigh as much as the products).

/// Key rows per tile: at T = 256 (nanoGPT shape) the fastest of 32, 64 and 128 (forward +
/// backward 93 against 100 and 110 ms, 1 thread, AMD EPYC); at T = 64 within 5% of each other.
let attentionTile = 64

/// Floats of one thread's scratch at T positions and head size hs: two (T, tile) tiles, an
/// (hs, tile) one (a key or value tile transposed) and two per-row vectors (`slotParts`).
/// The bf16 kernels' slot: `bf16AttentionScratchFloats`.
package func attentionScratchFloats(T: Int, headSize hs: Int, tile: Int = attentionTile) -> Int {
    let Bt = min(tile, T)
    return 2 * T * Bt + hs * Bt + 2 * T
}

/// A slot's fp32 parts: two (T, Bt) tiles, the (hs, Bt) transposed tile, then two (T) vectors.
@inline(__always)
private func slotParts(_ s: UnsafeMutablePointer<Float>, T: Int, hs: Int, Bt: Int)
    -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
    (s, s + T * Bt, s + 2 * T * Bt, s + 2 * T * Bt + hs * Bt)
}

/// out (B, T, C) = causal softmax(q k^T / sqrt(hs)) v, heads side by side
/// lse (B, NH, T) = per query row i, log sum_{j<=i} exp(q_i . k_j / sqrt(hs)) (what the backward needs)
/// `scratch` holds `slots` x attentionScratchFloats(T:headSize: C / NH, tile:) floats.
package func attentionForward(out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>, slots: Int, B: Int, T: Int, C: Int, NH: Int,
                      tile: Int = attentionTile) {
    let hs = C / NH
    precondition(parallelThreads <= slots, "attention tiles for \(slots) thread(s), running on \(parallelThreads)")
    parallelChunks(B * NH) { slot, items in   // slot: the thread's chunk index, its own tiles
        let s = scratch + slot * attentionScratchFloats(T: T, headSize: hs, tile: tile)
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let q = qkv + b * T * 3 * C + h * hs
            attentionForwardItem(q: q, k: q + C, v: q + 2 * C, ld: 3 * C, o: out + b * T * C + h * hs, ldo: C,
                                 lse: lse + item * T, scratch: s, T: T, hs: hs, tile: tile)
        }
    }
}

/// One (b, h) item: q, k, v (T, hs) rows `ld` apart, o (T, hs) rows `ldo` apart, lse (T).
/// scratch (`slotParts`): the scores' tile, the transposed key tile, the row maxima and sums.
@inline(__always)
private func attentionForwardItem(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                                  o: UnsafeMutablePointer<Float>, ldo: Int, lse: UnsafeMutablePointer<Float>,
                                  scratch: UnsafeMutablePointer<Float>, T: Int, hs: Int, tile: Int) {
    let scale = 1 / Float(hs).squareRoot()
    let Bt = min(tile, T)
    let (s, _, kT, m) = slotParts(scratch, T: T, hs: hs, Bt: Bt)   // m: (T) running row maxima
    let l = m + T                                                   // (T) running row sums
    for c0 in stride(from: 0, to: T, by: Bt) {
        let (M, N) = (T - c0, min(Bt, T - c0))   // query rows c0..<T, keys c0..<c0+N
        // s (M, N) = scale q[c0..<T] kT, kT (hs, N) = k[c0..<c0+N]^T
        transpose(k + c0 * ld, lds: ld, into: kT, ldd: Bt, rows: N, cols: hs)
        sgemm(false, false, M: M, N: N, K: hs, alpha: scale, q + c0 * ld, lda: ld, kT, ldb: Bt,
              s, ldc: Bt, accumulate: false)
        onlineSoftmaxTile(s, Bt: Bt, c0: c0, M: M, N: N, m: m, l: l, o: o, ldo: ldo, hs: hs)
        // o[c0..<T] (M, hs) += s (M, N) v[c0..<c0+N] (N, hs); key tile 0 overwrites
        sgemm(false, false, M: M, N: hs, K: N, s, lda: Bt, v + c0 * ld, ldb: ld,
              o + c0 * ldo, ldc: ldo, accumulate: c0 != 0)
    }
    for r in 0..<T {
        scaleRow(o + r * ldo, hs, by: 1 / l[r])
        lse[r] = m[r] + logf(l[r])
    }
}

/// The online softmax over key tile c0's scores s (M, N), rows Bt apart, for query rows
/// c0..<c0+M (causal: row r takes keys j <= r): each row becomes its exponentials at the new
/// running maximum m[r] (0 past the diagonal, up to N), l[r] its running sum; the output rows
/// of o (ldo apart) the earlier tiles gave are rescaled to the new maximum. Tile 0 starts m and l.
@inline(__always)
func onlineSoftmaxTile(_ s: UnsafeMutablePointer<Float>, Bt: Int, c0: Int, M: Int, N: Int,
                       m: UnsafeMutablePointer<Float>, l: UnsafeMutablePointer<Float>,
                       o: UnsafeMutablePointer<Float>, ldo: Int, hs: Int) {
    for i in 0..<M {
        let r = c0 + i
        let row = s + i * Bt
        let n = min(N, i + 1)                  // keys j <= r
        let mNew = c0 == 0 ? rowMax(row, n) : max(m[r], rowMax(row, n))
        let sum = expRow(row, n, minus: mNew, width: N)
        if c0 == 0 {
            l[r] = sum
        } else {
            // Rescale what the earlier key tiles gave: their exponents were taken at m[r].
            let alpha = mNew > m[r] ? expf(m[r] - mNew) : 1
            l[r] = l[r] * alpha + sum
            if alpha != 1 { scaleRow(o + r * ldo, hs, by: alpha) }
        }
        m[r] = mNew
    }
}

/// Given dout (B, T, C), the forward's out and lse, per (b, h) and key tile j (query rows i >= its first):
///   p = exp(scale q_i k_j^T - lse_i) (0 above the diagonal);  dv_j = p^T dout_i
///   dp = dout_i v_j^T;  ds = p * (dp - D_i), D_i = rowsum(dout_i * out_i)   (softmax backward)
///   dq_i += scale ds k_j;  dk_j = scale ds^T q_i
/// dqkv (B, T, 3C) is overwritten; `scratch` as in the forward.
package func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                       out: UnsafePointer<Float>, lse: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                       slots: Int, B: Int, T: Int, C: Int, NH: Int, tile: Int = attentionTile) {
    let hs = C / NH
    precondition(parallelThreads <= slots, "attention tiles for \(slots) thread(s), running on \(parallelThreads)")
    parallelChunks(B * NH) { slot, items in   // slot: the thread's chunk index, its own tiles
        let s = scratch + slot * attentionScratchFloats(T: T, headSize: hs, tile: tile)
        for item in items {
            let (b, h) = (item / NH, item % NH)
            let q = qkv + b * T * 3 * C + h * hs
            attentionBackwardItem(q: q, k: q + C, v: q + 2 * C, ld: 3 * C, o: out + b * T * C + h * hs, ldo: C,
                                  dy: dout + b * T * C + h * hs, dq: dqkv + b * T * 3 * C + h * hs, C: C,
                                  lse: lse + item * T, scratch: s, T: T, hs: hs, tile: tile)
        }
    }
}

/// One (b, h) item's backward: q, k, v rows `ld` apart, o rows `ldo` apart, dy rows C apart,
/// dq (and dk, dv at + C, + 2C) rows 3C apart, lse (T). scratch (`slotParts`): p, dp (then ds),
/// the transposed key or value tile, D (T).
@inline(__always)
private func attentionBackwardItem(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                                   o: UnsafePointer<Float>, ldo: Int, dy: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>,
                                   C: Int, lse rowLSE: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                   T: Int, hs: Int, tile: Int) {
    let scale = 1 / Float(hs).squareRoot()
    let Bt = min(tile, T)
    let (p, ds, kvT, D) = slotParts(scratch, T: T, hs: hs, Bt: Bt)
    let dk = dq + C
    let dv = dq + 2 * C
    for r in 0..<T { D[r] = dotRow(dy + r * C, o + r * ldo, hs) }
    for c0 in stride(from: 0, to: T, by: Bt) {
        let (M, N) = (T - c0, min(Bt, T - c0))   // query rows c0..<T, keys c0..<c0+N
        transpose(k + c0 * ld, lds: ld, into: kvT, ldd: Bt, rows: N, cols: hs)
        sgemm(false, false, M: M, N: N, K: hs, alpha: scale, q + c0 * ld, lda: ld, kvT, ldb: Bt,
              p, ldc: Bt, accumulate: false)
        for i in 0..<M { _ = expRow(p + i * Bt, min(N, i + 1), minus: rowLSE[c0 + i], width: N) }
        // dv[c0..<c0+N] (N, hs) = p^T (N, M) dy[c0..<T] (M, hs)
        sgemm(true, false, M: N, N: hs, K: M, p, lda: Bt, dy + c0 * C, ldb: C,
              dv + c0 * 3 * C, ldc: 3 * C, accumulate: false)
        // ds (M, N) = dy[c0..<T] (M, hs) v[c0..<c0+N]^T (hs, N), then p * (ds - D)
        transpose(v + c0 * ld, lds: ld, into: kvT, ldd: Bt, rows: N, cols: hs)
        sgemm(false, false, M: M, N: N, K: hs, dy + c0 * C, lda: C, kvT, ldb: Bt,
              ds, ldc: Bt, accumulate: false)
        for i in 0..<M { softmaxBackwardRow(ds + i * Bt, p: p + i * Bt, D[c0 + i], N) }
        // dq[c0..<T] (M, hs) += scale ds (M, N) k[c0..<c0+N] (N, hs); key tile 0 (all rows) overwrites
        sgemm(false, false, M: M, N: hs, K: N, alpha: scale, ds, lda: Bt, k + c0 * ld, ldb: ld,
              dq + c0 * 3 * C, ldc: 3 * C, accumulate: c0 != 0)
        // dk[c0..<c0+N] (N, hs) = scale ds^T (N, M) q[c0..<T] (M, hs)
        sgemm(true, false, M: N, N: hs, K: M, alpha: scale, ds, lda: Bt, q + c0 * ld, ldb: ld,
              dk + c0 * 3 * C, ldc: 3 * C, accumulate: false)
    }
}

/// The fused attention over activations in their format (fp32, or bf16 with one engine per
/// slot: `BF16Attention.swift`).
package func attentionForward(out: ActivationPointer, lse: UnsafeMutablePointer<Float>, qkv: ActivationPointer,
                              scratch: UnsafeMutablePointer<Float>, engines: ArraySlice<BF16GEMM>, slots: Int,
                              B: Int, T: Int, C: Int, NH: Int) {
    switch (out, qkv) {
    case (.fp32(let o), .fp32(let q)): attentionForward(out: o, lse: lse, qkv: q, scratch: scratch, slots: slots, B: B, T: T, C: C, NH: NH)
    case (.bf16(let o), .bf16(let q)):
        attentionForward(out: o, lse: lse, qkv: q, scratch: scratch, engines: engines, slots: slots, B: B, T: T, C: C, NH: NH)
    default: preconditionFailure("attention between fp32 and bf16 activations")
    }
}

package func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: ActivationPointer,
                               out: ActivationPointer, lse: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                               engines: ArraySlice<BF16GEMM>, slots: Int, B: Int, T: Int, C: Int, NH: Int) {
    switch (qkv, out) {
    case (.fp32(let q), .fp32(let o)):
        attentionBackward(dqkv: dqkv, dout: dout, qkv: q, out: o, lse: lse, scratch: scratch, slots: slots, B: B, T: T, C: C, NH: NH)
    case (.bf16(let q), .bf16(let o)):
        attentionBackward(dqkv: dqkv, dout: dout, qkv: q, out: o, lse: lse, scratch: scratch, engines: engines, slots: slots,
                          B: B, T: T, C: C, NH: NH)
    default:
        preconditionFailure("attention between fp32 and bf16 activations")
    }
}

// Row helpers over SIMD8 with scalar tails; each sums in a fixed order. rowMax and expRow run
// AVX-512 bodies where the CPU has them (`kernelsUseAVX512`; expRow's sum in 16 lanes).

/// max of row[0..<n], n >= 1
@inline(__always)
func rowMax(_ row: UnsafePointer<Float>, _ n: Int) -> Float {
    if kernelsUseAVX512 { return ck_row_max_avx512(row, n) }
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
    if kernelsUseAVX512 { return ck_exp_row_avx512(row, n, shift, width) }
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
