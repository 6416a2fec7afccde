// GELU, tanh approximation (GPT-2):
// gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
// SIMD8 bodies; tails go through the same vector code on a partial load.

let geluScale: Float = 0.7978845608028654   // sqrt(2 / pi)
let geluCubic: Float = 0.044715

@inline(__always)
func geluVector(_ x: F8) -> F8 {
    let u: F8 = geluScale * (x + geluCubic * x * x * x)
    return 0.5 * x * (1 + fastTanh(u))
}

/// gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
@inline(__always)
func geluGradVector(_ x: F8) -> F8 {
    let x2: F8 = x * x
    let t: F8 = fastTanh(geluScale * (x + geluCubic * x2 * x))
    let slope: F8 = geluScale * (1 + (3 * geluCubic) * x2)
    let half: F8 = 0.5 * (1 + t)
    return half + 0.5 * x * (1 - t * t) * slope
}

/// out (N) = gelu(x)
package func geluForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
    parallelRanges(count, grain: 8) { r in
        var k = r.lowerBound
        while k + 8 <= r.upperBound {
            store8(geluVector(load8(x + k)), out + k)
            k += 8
        }
        let n = r.upperBound - k
        if n > 0 { storePartial(geluVector(loadPartial(x + k, n)), out + k, n) }
    }
}

/// dx (N) = dout * gelu'(x); dx may be dout (in place)
package func geluBackward(dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
    parallelRanges(count, grain: 8) { r in
        var k = r.lowerBound
        while k + 8 <= r.upperBound {
            store8(load8(dout + k) * geluGradVector(load8(x + k)), dx + k)
            k += 8
        }
        let n = r.upperBound - k
        if n > 0 { storePartial(loadPartial(dout + k, n) * geluGradVector(loadPartial(x + k, n)), dx + k, n) }
    }
}
