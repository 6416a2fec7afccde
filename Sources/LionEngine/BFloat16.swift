/// bfloat16 storage: the top 16 bits of an IEEE fp32 value, kept as `UInt16`.
///
/// Widening is exact (shift left 16). Narrowing rounds to nearest, ties to even; values past
/// the largest bf16 round to infinity as IEEE requires; NaN stays NaN (quieted, sign kept).
public enum BFloat16 {
    /// Exact widening of a bf16 bit pattern to fp32.
    @inlinable @inline(__always)
    public static func toFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) &<< 16)
    }

    /// Round-to-nearest-even narrowing of fp32 to a bf16 bit pattern.
    @inlinable @inline(__always)
    public static func fromFloat(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits &>> 16) | 0x0040 }
        let lsb = (bits &>> 16) & 1
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ lsb) &>> 16)
    }

    /// Eight lanes at once; same results as `toFloat`. Interleaving zero halves below the bf16
    /// bits compiles to pxor + punpcklwd/punpckhwd (`SIMD8<UInt32>(truncatingIfNeeded:)` was an
    /// out-of-line stdlib call per vector and made the bf16 kernel 2x slower than fp32).
    @inlinable @inline(__always)
    public static func toFloat(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
        let z: UInt16 = 0
        let w = SIMD16<UInt16>(z, h[0], z, h[1], z, h[2], z, h[3], z, h[4], z, h[5], z, h[6], z, h[7])
        return unsafeBitCast(w, to: SIMD8<Float>.self)
    }

    /// Eight lanes at once; same results as `fromFloat`. Rounds in 32-bit lanes and keeps the
    /// high halves (psrad + packssdw).
    @inlinable @inline(__always)
    public static func fromFloat(_ x: SIMD8<Float>) -> SIMD8<UInt16> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let rounded = bits &+ 0x7FFF &+ ((bits &>> 16) & 1)
        let out = rounded.replacing(with: bits | 0x0040_0000, where: x .!= x)
        let v = unsafeBitCast(out, to: SIMD16<UInt16>.self)
        return SIMD8<UInt16>(v[1], v[3], v[5], v[7], v[9], v[11], v[13], v[15])
    }

    /// Narrows `count` floats into bf16 storage.
    public static func store(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = fromFloat(src[i]) }
    }

    /// Widens `count` bf16 values into floats.
    public static func load(_ src: UnsafePointer<UInt16>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = toFloat(src[i]) }
    }
}
