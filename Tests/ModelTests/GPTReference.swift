import Foundation
import XCTest
import DeterministicRandom
@testable import Model

// An independent Double-precision reference of the GPT forward pass: plain loops, no BLAS,
// written from the formulas (nanoGPT semantics), not from the Float kernels. The gradient
// tests take central finite differences of these functions.

enum Ref {
    /// (B, T, C) = wte[tokens[b, t]] + wpe[t]
    static func embedding(_ tokens: [UInt16], stride: Int, wte: [Double], wpe: [Double], B: Int, T: Int, C: Int) -> [Double] {
        var out = [Double](repeating: 0, count: B * T * C)
        for b in 0..<B {
            for t in 0..<T {
                let v = Int(tokens[b * stride + t])
                for c in 0..<C { out[(b * T + t) * C + c] = wte[v * C + c] + wpe[t * C + c] }
            }
        }
        return out
    }

    /// (N, C): (x - mean) / sqrt(var + 1e-5) * w, biased variance
    static func layerNorm(_ x: [Double], w: [Double], N: Int, C: Int) -> [Double] {
        var out = [Double](repeating: 0, count: N * C)
        for n in 0..<N {
            let row = x[(n * C)..<((n + 1) * C)]
            let mean = row.reduce(0, +) / Double(C)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(C)
            let s = 1 / (variance + 1e-5).squareRoot()
            for c in 0..<C { out[n * C + c] = (x[n * C + c] - mean) * s * w[c] }
        }
        return out
    }

    /// (N, O) = x (N, I) W^T, W (O, I)
    static func linear(_ x: [Double], w: [Double], N: Int, I: Int, O: Int) -> [Double] {
        var out = [Double](repeating: 0, count: N * O)
        for n in 0..<N {
            for o in 0..<O {
                var s = 0.0
                for i in 0..<I { s += x[n * I + i] * w[o * I + i] }
                out[n * O + o] = s
            }
        }
        return out
    }

    static func gelu(_ x: [Double]) -> [Double] {
        x.map { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
    }

    /// qkv (B, T, 3C) -> (B, T, C): per head, softmax over j <= i of q_i . k_j / sqrt(hs), times v_j
    static func attention(_ qkv: [Double], B: Int, T: Int, C: Int, NH: Int) -> [Double] {
        let hs = C / NH
        var out = [Double](repeating: 0, count: B * T * C)
        for b in 0..<B {
            for h in 0..<NH {
                func at(_ t: Int, _ part: Int, _ d: Int) -> Double { qkv[(b * T + t) * 3 * C + part * C + h * hs + d] }
                for i in 0..<T {
                    var scores = (0...i).map { j in (0..<hs).reduce(0.0) { $0 + at(i, 0, $1) * at(j, 1, $1) } / Double(hs).squareRoot() }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let z = scores.reduce(0, +)
                    for d in 0..<hs {
                        var s = 0.0
                        for j in 0...i { s += scores[j] / z * at(j, 2, d) }
                        out[(b * T + i) * C + h * hs + d] = s
                    }
                }
            }
        }
        return out
    }

    /// Sum over (b, t) of logsumexp(logits) - logits[target], target = tokens[b * stride + t + 1]
    static func crossEntropy(_ logits: [Double], tokens: [UInt16], stride: Int, B: Int, T: Int, V: Int) -> Double {
        var sum = 0.0
        for b in 0..<B {
            for t in 0..<T {
                let z = logits[((b * T + t) * V)..<((b * T + t + 1) * V)]
                let m = z.max()!
                let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
                sum += lse - z[z.startIndex + Int(tokens[b * stride + t + 1])]
            }
        }
        return sum
    }

    /// The whole model: the SUM of the losses over batch * T targets, tokens (batch, T + 1).
    static func gptLoss(_ model: GPT, params p: [Double], tokens: [UInt16], batch B: Int) -> Double {
        let cfg = model.config
        let (T, C, V, NH) = (cfg.blockSize, cfg.nEmbd, cfg.vocabSize, cfg.nHead)
        let N = B * T
        func tensor(_ name: String) -> [Double] {
            let t = model.tensors.first { $0.name == name }!
            return Array(p[t.range])
        }
        let wte = tensor("wte")
        var x = embedding(tokens, stride: T + 1, wte: wte, wpe: tensor("wpe"), B: B, T: T, C: C)
        for l in 0..<cfg.nLayer {
            let h = "h.\(l)."
            let a = linear(attention(linear(layerNorm(x, w: tensor(h + "ln_1.weight"), N: N, C: C),
                                            w: tensor(h + "attn.c_attn.weight"), N: N, I: C, O: 3 * C), B: B, T: T, C: C, NH: NH),
                           w: tensor(h + "attn.c_proj.weight"), N: N, I: C, O: C)
            x = zip(x, a).map(+)
            let m = linear(gelu(linear(layerNorm(x, w: tensor(h + "ln_2.weight"), N: N, C: C),
                                       w: tensor(h + "mlp.c_fc.weight"), N: N, I: C, O: 4 * C)),
                           w: tensor(h + "mlp.c_proj.weight"), N: N, I: 4 * C, O: C)
            x = zip(x, m).map(+)
        }
        let logits = linear(layerNorm(x, w: tensor("ln_f.weight"), N: N, C: C), w: wte, N: N, I: C, O: V)
        return crossEntropy(logits, tokens: tokens, stride: T + 1, B: B, T: T, V: V)
    }
}

/// Runs `body` once per kernel body this CPU has, with `kernelsUseAVX512` set to it: the
/// portable (SIMD8 or plain) bodies, then AVX-512 where the CPU has it. Restores the default after.
func forEachKernelBody(_ body: (_ avx512: Bool) throws -> Void) rethrows {
    defer { kernelsUseAVX512 = cpuHasAVX512 }
    for avx in cpuHasAVX512 ? [false, true] : [false] {
        kernelsUseAVX512 = avx
        try body(avx)
    }
}

/// Deterministic test values.
struct TestRandom {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    /// Uniform in [lo, hi), as Float.
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<n).map { _ in lo + (hi - lo) * Float(rng.nextUnit()) }
    }
    mutating func tokens(_ n: Int, below v: Int) -> [UInt16] {
        (0..<n).map { _ in UInt16(rng.next(below: v)) }
    }
    static func tokens(seed: UInt64, _ n: Int, below v: Int) -> [UInt16] {
        var r = TestRandom(seed: seed)
        return r.tokens(n, below: v)
    }
}

/// Central differences of a Double function at `x` (a Float point, evaluated exactly in Double),
/// compared element by element with a Float kernel's gradient.
///
/// Tolerance, on purpose: the Double differences are exact to ~1e-9 at h = 1e-5 (truncation
/// h^2 f''' / 6 plus 1e-16 / h rounding), so what remains is the Float kernel's rounding,
/// a few ulps (2^-24 ~ 6e-8) per accumulated term: |analytic - numeric| <= atol + rtol |numeric|
/// with rtol 1e-4 and atol chosen per test from the scale of the gradient.
func assertGradient(_ name: String, at x: [Float], analytic: [Float], atol: Double, rtol: Double = 1e-4,
                    h: Double = 1e-5, only: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Double]) -> Double) -> Double {
    precondition(x.count == analytic.count)
    var point = x.map(Double.init)
    var worst = 0.0
    var failures = 0
    for i in only ?? Array(0..<point.count) {
        let saved = point[i]
        point[i] = saved + h
        let plus = f(point)
        point[i] = saved - h
        let minus = f(point)
        point[i] = saved
        let numeric = (plus - minus) / (2 * h)
        let err = abs(numeric - Double(analytic[i]))
        worst = max(worst, err)
        if !(err <= atol + rtol * abs(numeric)) {
            failures += 1
            if failures <= 5 {
                XCTAssertLessThanOrEqual(err, atol + rtol * abs(numeric),
                                         "\(name)[\(i)]: analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
            }
        }
    }
    XCTAssertEqual(failures, 0, "\(name): \(failures) of \((only ?? Array(0..<point.count)).count) elements off", file: file, line: line)
    XCTAssertGreaterThan(analytic.map { abs($0) }.max() ?? 0, Float(100 * atol), "\(name): gradient is not trivially small", file: file, line: line)
    return worst
}
