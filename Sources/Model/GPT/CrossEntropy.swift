#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Softmax cross-entropy fused with its backward, over the logits of the tied output layer.
// B = batch, T = positions, V = vocabulary. The target of position t in row b is
// tokens[b * stride + t + 1] (rows hold T + 1 tokens: inputs, then the last target).

/// loss(b, t) = logsumexp(logits[b, t]) - logits[b, t, target]; returns the SUM over B * T in Double.
/// When `dscale` is given, logits (B, T, V) are REPLACED by dlogits = dscale * (softmax - onehot(target)).
func crossEntropy(logits: UnsafeMutablePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int,
                  B: Int, T: Int, V: Int, dscale: Float?) -> Double {
    var lossSum = 0.0
    for b in 0..<B {
        for t in 0..<T {
            let z = logits + (b * T + t) * V
            let y = Int(tokens[b * stride + t + 1])
            precondition(y < V, "target token \(y) not in 0..<\(V) (vocabulary size)")
            var m = z[0]
            for j in 1..<V where z[j] > m { m = z[j] }
            var sum: Float = 0
            for j in 0..<V { sum += expf(z[j] - m) }
            lossSum += Double(m) + log(Double(sum)) - Double(z[y])
            if let dscale {
                let inv = dscale / sum
                for j in 0..<V { z[j] = expf(z[j] - m) * inv }
                z[y] -= dscale
            }
        }
    }
    return lossSum
}
