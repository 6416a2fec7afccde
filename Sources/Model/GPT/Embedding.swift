// Token + position embedding. B = batch, T = positions used, C = width, V = vocabulary.
// Token row b starts at tokens + b * stride (the training layout has stride T + 1: inputs and targets).

/// out is (B, T, C) = wte[tokens[b, t]] (V, C) + wpe[t] (T, C)
package func embeddingForward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int,
                      wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>, B: Int, T: Int, C: Int, V: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let v = Int(tokens[b * stride + t])
            precondition(v < V, "token \(v) not in 0..<\(V) (vocabulary size)")
            let o = out + (b * T + t) * C
            let e = wte + v * C
            let p = wpe + t * C
            for c in 0..<C { o[c] = e[c] + p[c] }
        }
    }
}

/// dwte (V, C) += dout[b, t] at row tokens[b, t] (ACCUMULATES: the tied head wrote it first)
/// dwpe (T, C)  = sum over b of dout[b, t]   (overwritten)
package func embeddingBackward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int,
                       B: Int, T: Int, C: Int) {
    dwpe.update(repeating: 0, count: T * C)
    for b in 0..<B {
        for t in 0..<T {
            let d = dout + (b * T + t) * C
            let e = dwte + Int(tokens[b * stride + t]) * C
            let p = dwpe + t * C
            for c in 0..<C {
                e[c] += d[c]
                p[c] += d[c]
            }
        }
    }
}
