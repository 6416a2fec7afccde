import CKernels

// GELU, tanh approximation (GPT-2):
// gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
// Two bodies with the same operation order and so the same bits: AVX-512 in CKernels
// (ckernels_gpt.c, chosen at run time by `kernelsUseAVX512`; Swift's SIMD8 builds for SSE here) and SIMD8 below (other
// CPUs; tails go through the same vector code on a partial load). The baby GPT's GELU per step,
// forward + backward, 1 thread, AMD EPYC: 5.5 ms in SIMD8 with tanh twice in the backward, 1.2 ms
// in AVX-512 with the backward's one tanh giving both the output and the slope.
// Loops split over the compute threads in ranges of `geluGrain`.

let geluScale: Float = 0.7978845608028654   // sqrt(2 / pi)
let geluCubic: Float = 0.044715

/// Elements per parallel range unit (a multiple of 16: whole AVX-512 vectors on every range but the last).
let geluGrain = 1 << 12

@inline(__always)
func geluTanhVector(_ x: F8) -> F8 { fastTanh(geluScale * (x + geluCubic * x * x * x)) }

@inline(__always)
func geluVector(_ x: F8) -> F8 { 0.5 * x * (1 + geluTanhVector(x)) }

/// gelu'(x) from x, x^2 and t = tanh(u): 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
@inline(__always)
func geluSlopeVector(_ x: F8, _ x2: F8, _ t: F8) -> F8 {
    let slope: F8 = geluScale * (1 + (3 * geluCubic) * x2)
    let half: F8 = 0.5 * (1 + t)
    return half + 0.5 * x * (1 - t * t) * slope
}

/// gelu'(x) from x alone (tanh of u = sqrt(2/pi) (x + (0.044715 x^2) x))
@inline(__always)
func geluGradVector(_ x: F8) -> F8 {
    let x2: F8 = x * x
    return geluSlopeVector(x, x2, fastTanh(geluScale * (x + geluCubic * x2 * x)))
}

/// Runs `vector(k, n)` over 0..<count in whole vectors of 8 (n = 8) and one partial tail (n < 8), split over the threads.
@inline(__always)
private func geluRanges(_ count: Int, _ avx512: (Int, Int) -> Void, _ vector: (Int, Int) -> Void) {
    parallelRanges(count, grain: geluGrain) { r in
        if kernelsUseAVX512 { avx512(r.lowerBound, r.count); return }
        var k = r.lowerBound
        while k + 8 <= r.upperBound {
            vector(k, 8)
            k += 8
        }
        if k < r.upperBound { vector(k, r.upperBound - k) }
    }
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ n: Int) -> F8 { n == 8 ? load8(p) : loadPartial(p, n) }

@inline(__always)
private func store(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 8 { store8(v, p) } else { storePartial(v, p, n) }
}

/// out (N) = gelu(x)
package func geluForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
    geluRanges(count, { k, n in ck_gelu_avx512(out + k, x + k, n) }) { k, n in
        store(geluVector(load(x + k, n)), out + k, n)
    }
}

/// out (N) = gelu(x) and slope (N) = gelu'(x), from one tanh per element; slope may be x (in
/// place). The GPT's backward recomputes its GELU output with this and keeps the slope for
/// `geluBackward(dx:dout:slope:count:)`.
package func geluForward(out: UnsafeMutablePointer<Float>, slope: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
    geluRanges(count, { k, n in ck_gelu_slope_avx512(out + k, slope + k, x + k, n) }) { k, n in
        let v = load(x + k, n)
        let t = geluTanhVector(v)
        store(0.5 * v * (1 + t), out + k, n)
        store(geluSlopeVector(v, v * v, t), slope + k, n)
    }
}

/// dx (N) = dout * gelu'(x); dx may be dout (in place)
package func geluBackward(dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
    geluRanges(count, { k, n in ck_gelu_backward_avx512(dx + k, x + k, dout + k, n) }) { k, n in
        store(load(dout + k, n) * geluGradVector(load(x + k, n)), dx + k, n)
    }
}

/// dx (N) = dout * slope, the slope from `geluForward(out:slope:x:count:)`; dx may be dout (in place)
package func geluBackward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, slope: UnsafePointer<Float>, count: Int) {
    geluRanges(count, { k, n in ck_multiply_avx512(dx + k, dout + k, slope + k, n) }) { k, n in
        store(load(dout + k, n) * load(slope + k, n), dx + k, n)
    }
}
