import CKernels

// LayerNorm with a gain and no bias (eps 1e-5), over rows of C. N = rows (B * T).
// Two bodies: AVX-512 in CKernels (ckernels_layernorm.c, chosen at run time by `kernelsUseAVX512`;
// Swift's SIMD8 builds for SSE here), and SIMD8 over C in whole vectors with a scalar loop for
// the last C % 8 (other CPUs). Their sums run in 16 and 8 lanes: equal within rounding, not bitwise.
// Baby GPT, Intel Xeon (model 207), 2 threads, machine shared (step ~47 ms, not the quiet ~25):
// the ln_1 + ln_2 + ln_f backward rows (each with its forward recompute) took a median 2.09 ms
// in SIMD8 with dw in a second column pass, 1.44 ms in AVX-512 with the fused pass; the forward
// rows 0.42 and 0.35 ms (`lion-dist bench gpt --threads 2 --steps 150`, 4 interleaved pairs).

let layerNormEps: Float = 1e-5

/// out is (N, C) = (x - mean) * rstd * w, w (C); mean, rstd (N) are kept for the backward.
package func layerNormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                      rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                      N: Int, C: Int) {
    parallelRanges(N) { rows in
        if kernelsUseAVX512 {
            let (lo, o) = (rows.lowerBound, rows.lowerBound * C)
            ck_layernorm_forward_avx512(out + o, mean + lo, rstd + lo, x + o, w, rows.count, C, layerNormEps)
        } else {
            layerNormForwardRows(out: out, mean: mean, rstd: rstd, x: x, w: w, rows: rows, C: C)
        }
    }
}

/// The forward's rows `rows` (SIMD8).
private func layerNormForwardRows(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                  rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                  rows: Range<Int>, C: Int) {
    let invC = 1 / Float(C)
    let whole = C & ~7
    for n in rows {
        let xr = x + n * C
        let o = out + n * C
        var sv = F8()
        for c in stride(from: 0, to: whole, by: 8) { sv += load8(xr + c) }
        var sum = sv.sum()
        for c in whole..<C { sum += xr[c] }
        let m = sum * invC
        var qv = F8()
        for c in stride(from: 0, to: whole, by: 8) {
            let d = load8(xr + c) - m
            qv += d * d
        }
        var sq = qv.sum()
        for c in whole..<C { sq += (xr[c] - m) * (xr[c] - m) }
        let s = 1 / (sq * invC + layerNormEps).squareRoot()
        for c in stride(from: 0, to: whole, by: 8) { store8((load8(xr + c) - m) * s * load8(w + c), o + c) }
        for c in whole..<C { o[c] = (xr[c] - m) * s * w[c] }
        mean[n] = m
        rstd[n] = s
    }
}

/// With xhat = (x - mean) * rstd and g = dout * w:
/// dx (N, C) += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))   (ACCUMULATES into the residual gradient)
/// dw (C)     = sum over rows of dout * xhat                        (overwritten)
/// One pass over the rows reads x and dout once for both. The rows are cut into
/// `layerNormBlocks` blocks (a split of N alone) split over the threads; each block sums its dw
/// over its rows in order, then dw sums the blocks in order: the bits do not depend on the
/// thread count.
package func layerNormBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int) {
    let blocks = min(N, layerNormBlocks)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks * C) { partials in
        let partial = partials.baseAddress!
        parallelRanges(blocks) { range in for b in range {
            let (lo, hi) = (N * b / blocks, N * (b + 1) / blocks)
            let (o, p) = (lo * C, partial + b * C)
            if kernelsUseAVX512 {
                ck_layernorm_backward_avx512(dx + o, p, dout + o, x + o, w, mean + lo, rstd + lo, hi - lo, C)
            } else {
                layerNormBackwardRows(dx: dx, dw: p, dout: dout, x: x, w: w, mean: mean, rstd: rstd, rows: lo..<hi, C: C)
            }
        } }
        dw.update(repeating: 0, count: C)
        for b in 0..<blocks { addRow(dw, partial + b * C, C) }
    }
}

/// Row blocks of the backward: up to 32 threads share its work.
let layerNormBlocks = 32

/// dx's rows `rows`, and dw = their sum of dout * xhat in row order (SIMD8).
private func layerNormBackwardRows(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                   x: UnsafePointer<Float>, w: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                   rstd: UnsafePointer<Float>, rows: Range<Int>, C: Int) {
    let invC = 1 / Float(C)
    let whole = C & ~7
    dw.update(repeating: 0, count: C)
    for n in rows {
        let xr = x + n * C
        let d = dout + n * C
        let dxr = dx + n * C
        let (m, s) = (mean[n], rstd[n])
        var gv = F8(), gxv = F8()
        for c in stride(from: 0, to: whole, by: 8) {
            let xhat = (load8(xr + c) - m) * s
            let g = load8(d + c) * load8(w + c)
            gv += g
            gxv += g * xhat
        }
        var gMean = gv.sum()
        var gxMean = gxv.sum()
        for c in whole..<C {
            let xhat = (xr[c] - m) * s
            let g = d[c] * w[c]
            gMean += g
            gxMean += g * xhat
        }
        gMean *= invC
        gxMean *= invC
        for c in stride(from: 0, to: whole, by: 8) {
            let xhat = (load8(xr + c) - m) * s
            let dv = load8(d + c)
            store8(load8(dxr + c) + s * (dv * load8(w + c) - gMean - xhat * gxMean), dxr + c)
            store8(load8(dw + c) + dv * xhat, dw + c)
        }
        for c in whole..<C {
            let xhat = (xr[c] - m) * s
            dxr[c] += s * (d[c] * w[c] - gMean - xhat * gxMean)
            dw[c] += d[c] * xhat
        }
    }
}

/// a[0..<n] += b[0..<n]
private func addRow(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    let whole = n & ~7
    for c in stride(from: 0, to: whole, by: 8) { store8(load8(a + c) + load8(b + c), a + c) }
    for c in whole..<n { a[c] += b[c] }
}
