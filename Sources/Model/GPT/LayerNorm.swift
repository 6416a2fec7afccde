#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// LayerNorm with a gain and no bias (eps 1e-5), over rows of C. N = rows (B * T).

let layerNormEps: Float = 1e-5

/// out is (N, C) = (x - mean) * rstd * w, w (C); mean, rstd (N) are kept for the backward.
func layerNormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                      rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                      N: Int, C: Int) {
    let invC = 1 / Float(C)
    for n in 0..<N {
        let xr = x + n * C
        let o = out + n * C
        var sum: Float = 0
        for c in 0..<C { sum += xr[c] }
        let m = sum * invC
        var sq: Float = 0
        for c in 0..<C {
            let d = xr[c] - m
            sq += d * d
        }
        let s = 1 / (sq * invC + layerNormEps).squareRoot()
        for c in 0..<C { o[c] = (xr[c] - m) * s * w[c] }
        mean[n] = m
        rstd[n] = s
    }
}

/// With xhat = (x - mean) * rstd and g = dout * w:
/// dx (N, C) += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))   (ACCUMULATES into the residual gradient)
/// dw (C)     = sum over rows of dout * xhat                        (overwritten)
func layerNormBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int) {
    dw.update(repeating: 0, count: C)
    let invC = 1 / Float(C)
    for n in 0..<N {
        let xr = x + n * C
        let d = dout + n * C
        let dxr = dx + n * C
        let (m, s) = (mean[n], rstd[n])
        var gMean: Float = 0
        var gxMean: Float = 0
        for c in 0..<C {
            let xhat = (xr[c] - m) * s
            let g = d[c] * w[c]
            gMean += g
            gxMean += g * xhat
        }
        gMean *= invC
        gxMean *= invC
        for c in 0..<C {
            let xhat = (xr[c] - m) * s
            let g = d[c] * w[c]
            dw[c] += d[c] * xhat
            dxr[c] += s * (g - gMean - xhat * gxMean)
        }
    }
}
