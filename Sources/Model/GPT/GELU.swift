#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// GELU, tanh approximation (GPT-2):
// gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)

let geluScale: Float = 0.7978845608028654   // sqrt(2 / pi)
let geluCubic: Float = 0.044715

/// out (N) = gelu(x)
func geluForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
    for k in 0..<count {
        let v = x[k]
        let t = tanhf(geluScale * (v + geluCubic * v * v * v))
        out[k] = 0.5 * v * (1 + t)
    }
}

/// dx (N) = dout * gelu'(x), gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
func geluBackward(dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
    for k in 0..<count {
        let v = x[k]
        let t = tanhf(geluScale * (v + geluCubic * v * v * v))
        let local = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * geluScale * (1 + 3 * geluCubic * v * v)
        dx[k] = dout[k] * local
    }
}
