#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Softmax cross-entropy fused with its backward, over the logits of the tied output layer.
// B = batch, T = positions, V = vocabulary. The target of position t in row b is
// tokens[b * stride + t + 1] (rows hold T + 1 tokens: inputs, then the last target).

/// loss(b, t) = logsumexp(logits[b, t]) - logits[b, t, target]; returns the SUM over B * T in Double.
/// Rows run in parallel. When `dscale` is given, logits (B, T, V) are REPLACED by dlogits = dscale * (softmax - onehot(target)).
package func crossEntropy(logits: UnsafeMutablePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int,
                  B: Int, T: Int, V: Int, dscale: Float?) -> Double {
    let whole = V & ~7
    var losses = [Double](repeating: 0, count: B * T)     // per row, summed in order below
    losses.withUnsafeMutableBufferPointer { losses in parallelRanges(B * T) { rows in for row in rows {
            let (b, t) = (row / T, row % T)
            let z = logits + row * V
            let y = Int(tokens[b * stride + t + 1])
            precondition(y < V, "target token \(y) not in 0..<\(V) (vocabulary size)")
            let zy = z[y]
            var mv = F8(repeating: -.infinity)
            for j in Swift.stride(from: 0, to: whole, by: 8) {
                let x = load8(z + j)
                mv.replace(with: x, where: x .> mv)
            }
            var m = mv.max()
            for j in whole..<V where z[j] > m { m = z[j] }
            // e = exp(z - m), kept in z when the gradient is wanted
            var sv = F8()
            for j in Swift.stride(from: 0, to: whole, by: 8) {
                let e = fastExp(load8(z + j) - m)
                if dscale != nil { store8(e, z + j) }
                sv += e
            }
            var sum = sv.sum()
            if whole < V {
                let e = fastExp(loadPartial(z + whole, V - whole) - m)
                if dscale != nil { storePartial(e, z + whole, V - whole) }
                for l in 0..<(V - whole) { sum += e[l] }
            }
            losses[row] = Double(m) + log(Double(sum)) - Double(zy)
            if let dscale {
                let k = dscale / sum
                for j in 0..<V { z[j] *= k }
                z[y] -= dscale
            }
    } } }
    return losses.reduce(0, +)
}
