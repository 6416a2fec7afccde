import CKernels

/// fp32 <-> bf16 conversion of buffers: the operands of the bf16 matmul (`BF16GEMM`) and the bf16 activations.
///
/// Rounds to nearest, ties to even; NaN stays NaN (quieted, sign kept); values past the largest
/// bf16 become infinity; subnormals round like any other value. The AVX-512 kernel (CKernels)
/// is bitwise equal to the portable C loop and is chosen at run time. It deliberately avoids
/// vcvtneps2bf16 (AVX512_BF16), which flushes subnormals to zero; the conversion is bound by
/// memory either way (6 bytes per element).
public enum BF16Convert {
    static let useAVX512: Bool = ck_cpu_has_avx512() != 0

    /// Elements below which one thread converts alone (fork-join would cost more than it saves).
    static let grain = 1 << 15

    /// dst[i] = bf16(src[i]) for i < count, split over `ComputeThreads.count` threads when large.
    public static func narrow(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        precondition(count >= 0, "count must be >= 0, got \(count)")
        parallelRanges(count, grain: grain) { r in
            narrowOnThisThread(src + r.lowerBound, to: dst + r.lowerBound, count: r.count)
        }
    }

    /// The same on the calling thread only.
    public static func narrowOnThisThread(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>,
                                          count: Int) {
        if useAVX512 {
            ck_bf16_from_f32_avx512(src, dst, count)
        } else {
            ck_bf16_from_f32(src, dst, count)
        }
    }

    /// The portable kernel on any CPU: the reference the AVX-512 one is tested against.
    public static func narrowPortable(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        ck_bf16_from_f32(src, dst, count)
    }

    /// dst[i] = the fp32 value of bf16 bits src[i] (exact), on the calling thread.
    public static func widenOnThisThread(_ src: UnsafePointer<UInt16>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        if useAVX512 { ck_f32_from_bf16_avx512(src, dst, count); return }
        widenPortable(src, to: dst, count: count)
    }

    /// The portable widening on any CPU: the reference the AVX-512 one is tested against.
    public static func widenPortable(_ src: UnsafePointer<UInt16>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let h = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt16>.self)
            store8(unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: F8.self), dst + i)
            i += 8
        }
        while i < count {
            dst[i] = widen(src[i])
            i += 1
        }
    }

    /// Exact widening of one bf16 bit pattern.
    @inline(__always)
    public static func widen(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
}
