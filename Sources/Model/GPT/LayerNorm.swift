// LayerNorm with a gain and no bias (eps 1e-5), over rows of C. N = rows (B * T).
// SIMD8 over C in whole vectors, a scalar loop for the last C % 8.

let layerNormEps: Float = 1e-5

/// out is (N, C) = (x - mean) * rstd * w, w (C); mean, rstd (N) are kept for the backward.
package func layerNormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                      rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                      N: Int, C: Int) {
    let invC = 1 / Float(C)
    let whole = C & ~7
    parallelRanges(N) { rows in for n in rows {
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
    } }
}

/// With xhat = (x - mean) * rstd and g = dout * w:
/// dx (N, C) += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))   (ACCUMULATES into the residual gradient)
/// dw (C)     = sum over rows of dout * xhat                        (overwritten)
/// In one fork-join: thread t runs its share of dx's rows and of dw's columns (each column
/// summed over the rows in order, as on one thread: the bits do not depend on the thread count).
package func layerNormBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int) {
    let threads = max(1, min(parallelThreads, N))
    parallelChunks(threads) { _, ts in for t in ts {
        let rows = N * t / threads..<N * (t + 1) / threads
        let columns = (C + 7) / 8 * t / threads * 8..<min(C, (C + 7) / 8 * (t + 1) / threads * 8)
        layerNormBackwardRows(dx: dx, dout: dout, x: x, w: w, mean: mean, rstd: rstd, rows: rows, C: C)
        layerNormWeightGradient(dw: dw, dout: dout, x: x, mean: mean, rstd: rstd, N: N, C: C, columns: columns)
    } }
}

/// dx's rows `rows` (on the calling thread).
private func layerNormBackwardRows(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                   w: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                   rows: Range<Int>, C: Int) {
    let invC = 1 / Float(C)
    let whole = C & ~7
    do { for n in rows {
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
            let g = load8(d + c) * load8(w + c)
            store8(load8(dxr + c) + s * (g - gMean - xhat * gxMean), dxr + c)
        }
        for c in whole..<C {
            let xhat = (xr[c] - m) * s
            dxr[c] += s * (d[c] * w[c] - gMean - xhat * gxMean)
        }
    } }
}

/// dw's columns `columns` (whole vectors of 8 but at C's end): over all N rows, in order.
private func layerNormWeightGradient(dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                     mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int, columns: Range<Int>) {
    guard !columns.isEmpty else { return }
    let whole = columns.lowerBound + (columns.count & ~7)
    (dw + columns.lowerBound).update(repeating: 0, count: columns.count)
    for n in 0..<N {
        let xr = x + n * C
        let d = dout + n * C
        let (m, s) = (mean[n], rstd[n])
        for c in stride(from: columns.lowerBound, to: whole, by: 8) {
            store8(load8(dw + c) + load8(d + c) * ((load8(xr + c) - m) * s), dw + c)
        }
        for c in whole..<columns.upperBound { dw[c] += d[c] * ((xr[c] - m) * s) }
    }
}
