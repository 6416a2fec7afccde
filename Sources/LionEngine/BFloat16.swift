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

    /// Eight lanes at once; same results as `toFloat`.
    @inlinable @inline(__always)
    public static func toFloat(_ bits: SIMD8<UInt16>) -> SIMD8<Float> {
        unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits) &<< 16, to: SIMD8<Float>.self)
    }

    /// Eight lanes at once; same results as `fromFloat`.
    @inlinable @inline(__always)
    public static func fromFloat(_ x: SIMD8<Float>) -> SIMD8<UInt16> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let high = bits &>> 16
        let rounded = (bits &+ 0x7FFF &+ (high & 1)) &>> 16
        let quietNaN = high | 0x0040
        let out = rounded.replacing(with: quietNaN, where: x .!= x)
        return SIMD8<UInt16>(truncatingIfNeeded: out)
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
