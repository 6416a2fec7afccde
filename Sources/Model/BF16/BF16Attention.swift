import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The fused attention (`Attention.swift`) over bf16 qkv and out, its products in bf16 through
// oneDNN: the tile products read q, k and v where c_attn wrote them (bf16, rows 3C apart; a
// transposed operand is the same memory read by columns, so no transposes), and the
// probabilities (forward, backward) and their gradient (backward) are rounded to bf16 once per
// tile for the products that take them, as FlashAttention does on GPUs. The online softmax,
// its row statistics, the output's accumulation and every gradient stay fp32; dout is rounded
// once per item. One thread per (b, h) item in a fixed order, each with its own engine
// (`BF16GEMM`, single-threaded), so the results do not depend on the thread count.

/// Floats of one thread's bf16 attention scratch at T positions and head size hs: two fp32
/// (T, tile) tiles (scores or probabilities, and their gradient), one bf16 (T, tile) tile (the
/// product operand of either), the item's fp32 output (forward) or its bf16 dout (backward),
/// (T, hs), and two per-row vectors.
package func bf16AttentionScratchFloats(T: Int, headSize hs: Int, tile: Int = attentionTile) -> Int {
    let Bt = min(tile, T)
    return 2 * T * Bt + (T * Bt + 1) / 2 + T * hs + 2 * T
}

/// The parts of a bf16 slot (`bf16AttentionScratchFloats`).
private struct BF16AttentionSlot {
    let s, ds: UnsafeMutablePointer<Float>   // (T, Bt) fp32 each
    let t16: UnsafeMutablePointer<UInt16>    // (T, Bt) bf16: p, then ds
    let o: UnsafeMutablePointer<Float>       // (T, hs) fp32 output (forward)
    let dy16: UnsafeMutablePointer<UInt16>   // (T, hs) bf16 dout (backward), in o's place
    let m, l: UnsafeMutablePointer<Float>    // (T) each: row maxima and sums; D in the backward

    init(_ base: UnsafeMutablePointer<Float>, T: Int, hs: Int, Bt: Int) {
        s = base
        ds = base + T * Bt
        let rest = base + 2 * T * Bt
        t16 = UnsafeMutableRawPointer(rest).assumingMemoryBound(to: UInt16.self)
        o = rest + (T * Bt + 1) / 2
        dy16 = UnsafeMutableRawPointer(o).assumingMemoryBound(to: UInt16.self)
        m = o + T * hs
        l = m + T
    }
}

/// out (B, T, C) bf16 = causal softmax(q k^T / sqrt(hs)) v over bf16 qkv (B, T, 3C); lse (B, NH, T)
/// fp32 as in the fp32 kernel. `scratch` holds `slots` x bf16AttentionScratchFloats(T:headSize:)
/// floats; `engines` one engine per slot (the first `parallelThreads` are used).
package func attentionForward(out: UnsafeMutablePointer<UInt16>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<UInt16>,
                              scratch: UnsafeMutablePointer<Float>, engines: ArraySlice<BF16GEMM>, slots: Int,
                              B: Int, T: Int, C: Int, NH: Int, tile: Int = attentionTile) {
    let hs = C / NH
    forEachItem(scratch: scratch, engines: engines, slots: slots, B: B, T: T, NH: NH, hs: hs, tile: tile) { s, engine, item, b, h in
        let q = qkv + b * T * 3 * C + h * hs
        forwardItem(q: q, k: q + C, v: q + 2 * C, ld: 3 * C, out: out + b * T * C + h * hs, ldo: C,
                    lse: lse + item * T, s, engine, T: T, hs: hs, tile: tile)
    }
}

/// dqkv (B, T, 3C) fp32 (overwritten) from dout (B, T, C) fp32, the forward's bf16 qkv and out
/// and its lse; scratch and engines as in the forward.
package func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<UInt16>,
                               out: UnsafePointer<UInt16>, lse: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                               engines: ArraySlice<BF16GEMM>, slots: Int, B: Int, T: Int, C: Int, NH: Int,
                               tile: Int = attentionTile) {
    let hs = C / NH
    forEachItem(scratch: scratch, engines: engines, slots: slots, B: B, T: T, NH: NH, hs: hs, tile: tile) { s, engine, item, b, h in
        let q = qkv + b * T * 3 * C + h * hs
        backwardItem(q: q, k: q + C, v: q + 2 * C, ld: 3 * C, out: out + b * T * C + h * hs, dy: dout + b * T * C + h * hs,
                     dq: dqkv + b * T * 3 * C + h * hs, C: C, lse: lse + item * T, s, engine, T: T, hs: hs, tile: tile)
    }
}

/// body(slot, engine, item, b, h) for every (b, h) item of B x NH, the items split over the
/// threads in a fixed order, each thread with its slot of `scratch` and its engine.
@inline(__always)
private func forEachItem(scratch: UnsafeMutablePointer<Float>, engines: ArraySlice<BF16GEMM>, slots: Int,
                         B: Int, T: Int, NH: Int, hs: Int, tile: Int,
                         _ body: (BF16AttentionSlot, BF16GEMM, Int, Int, Int) -> Void) {
    precondition(parallelThreads <= min(slots, engines.count), "bf16 attention for \(min(slots, engines.count)) thread(s), running on \(parallelThreads)")
    parallelChunks(B * NH) { slot, items in
        let s = BF16AttentionSlot(scratch + slot * bf16AttentionScratchFloats(T: T, headSize: hs, tile: tile), T: T, hs: hs, Bt: min(tile, T))
        let engine = engines[engines.startIndex + slot]
        for item in items { body(s, engine, item, item / NH, item % NH) }
    }
}

/// One (b, h) item: the fp32 kernel's online softmax, with bf16 products: s = scale q k^T
/// (fp32), then o += bf16(p) v, o fp32 in the slot, narrowed into out (rows ldo apart) at the end.
@inline(__always)
private func forwardItem(q: UnsafePointer<UInt16>, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>, ld: Int,
                         out: UnsafeMutablePointer<UInt16>, ldo: Int, lse: UnsafeMutablePointer<Float>,
                         _ slot: BF16AttentionSlot, _ engine: BF16GEMM, T: Int, hs: Int, tile: Int) {
    let scale = 1 / Float(hs).squareRoot()
    let Bt = min(tile, T)
    let (s, p16, o, m, l) = (slot.s, slot.t16, slot.o, slot.m, slot.l)
    for c0 in stride(from: 0, to: T, by: Bt) {
        let (M, N) = (T - c0, min(Bt, T - c0))   // query rows c0..<T, keys c0..<c0+N
        // s (M, N) = scale q[c0..<T] k[c0..<c0+N]^T
        engine.gemm(false, true, M: M, N: N, K: hs, alpha: scale, q + c0 * ld, lda: ld, k + c0 * ld, ldb: ld,
                    s, ldc: Bt, accumulate: false)
        onlineSoftmaxTile(s, Bt: Bt, c0: c0, M: M, N: N, m: m, l: l, o: o, ldo: hs, hs: hs)
        BF16Convert.narrowOnThisThread(s, to: p16, count: (M - 1) * Bt + N)
        // o[c0..<T] (M, hs) += bf16(p) (M, N) v[c0..<c0+N] (N, hs); key tile 0 overwrites
        engine.gemm(false, false, M: M, N: hs, K: N, p16, lda: Bt, v + c0 * ld, ldb: ld,
                    o + c0 * hs, ldc: hs, accumulate: c0 != 0)
    }
    for r in 0..<T {
        scaleRow(o + r * hs, hs, by: 1 / l[r])
        lse[r] = m[r] + logf(l[r])
        BF16Convert.narrowOnThisThread(o + r * hs, to: out + r * ldo, count: hs)
    }
}

/// One (b, h) item's backward, the fp32 kernel's with bf16 products: dout narrowed once
/// (dy16), p recomputed in fp32 and narrowed for dv = p^T dy; ds = p (dy v^T - D) in fp32,
/// narrowed for dq += scale ds k and dk = scale ds^T q. dq (and dk, dv at + C, + 2C) rows 3C apart.
@inline(__always)
private func backwardItem(q: UnsafePointer<UInt16>, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>, ld: Int,
                          out: UnsafePointer<UInt16>, dy: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>,
                          C: Int, lse rowLSE: UnsafePointer<Float>, _ slot: BF16AttentionSlot, _ engine: BF16GEMM,
                          T: Int, hs: Int, tile: Int) {
    let scale = 1 / Float(hs).squareRoot()
    let Bt = min(tile, T)
    let (p, ds, t16, dy16, D) = (slot.s, slot.ds, slot.t16, slot.dy16, slot.m)
    let dk = dq + C
    let dv = dq + 2 * C
    for r in 0..<T {   // D from the rounded dout, as dp: so ds = p (dp - D) is 0 where the exact one is
        BF16Convert.narrowOnThisThread(dy + r * C, to: dy16 + r * hs, count: hs)
        D[r] = dotRow(dy16 + r * hs, out + r * C, hs)
    }
    for c0 in stride(from: 0, to: T, by: Bt) {
        let (M, N) = (T - c0, min(Bt, T - c0))   // query rows c0..<T, keys c0..<c0+N
        let tileCount = (M - 1) * Bt + N
        engine.gemm(false, true, M: M, N: N, K: hs, alpha: scale, q + c0 * ld, lda: ld, k + c0 * ld, ldb: ld,
                    p, ldc: Bt, accumulate: false)
        for i in 0..<M { _ = expRow(p + i * Bt, min(N, i + 1), minus: rowLSE[c0 + i], width: N) }
        BF16Convert.narrowOnThisThread(p, to: t16, count: tileCount)
        // dv[c0..<c0+N] (N, hs) = bf16(p)^T (N, M) dy16[c0..<T] (M, hs)
        engine.gemm(true, false, M: N, N: hs, K: M, t16, lda: Bt, dy16 + c0 * hs, ldb: hs,
                    dv + c0 * 3 * C, ldc: 3 * C, accumulate: false)
        // ds (M, N) = dy16[c0..<T] (M, hs) v[c0..<c0+N]^T (hs, N), then p * (ds - D)
        engine.gemm(false, true, M: M, N: N, K: hs, dy16 + c0 * hs, lda: hs, v + c0 * ld, ldb: ld,
                    ds, ldc: Bt, accumulate: false)
        for i in 0..<M { softmaxBackwardRow(ds + i * Bt, p: p + i * Bt, D[c0 + i], N) }
        BF16Convert.narrowOnThisThread(ds, to: t16, count: tileCount)
        // dq[c0..<T] (M, hs) += scale bf16(ds) (M, N) k[c0..<c0+N] (N, hs); key tile 0 (all rows) overwrites
        engine.gemm(false, false, M: M, N: hs, K: N, alpha: scale, t16, lda: Bt, k + c0 * ld, ldb: ld,
                    dq + c0 * 3 * C, ldc: 3 * C, accumulate: c0 != 0)
        // dk[c0..<c0+N] (N, hs) = scale bf16(ds)^T (N, M) q[c0..<T] (M, hs)
        engine.gemm(true, false, M: N, N: hs, K: M, alpha: scale, t16, lda: Bt, q + c0 * ld, ldb: ld,
                    dk + c0 * 3 * C, ldc: 3 * C, accumulate: false)
    }
}

/// sum over j < n of a[j] b[j], both bf16 (widened exactly), in dotRow's order.
@inline(__always)
private func dotRow(_ a: UnsafePointer<UInt16>, _ b: UnsafePointer<UInt16>, _ n: Int) -> Float {
    @inline(__always) func load(_ p: UnsafePointer<UInt16>) -> F8 {
        unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)) &<< 16, to: F8.self)
    }
    let whole = n & ~7
    var sv = F8()
    for j in stride(from: 0, to: whole, by: 8) { sv += load(a + j) * load(b + j) }
    var sum = sv.sum()
    for j in whole..<n { sum += BF16Convert.widen(a[j]) * BF16Convert.widen(b[j]) }
    return sum
}
