import CKernels

// Vectorized exp and tanh over SIMD8<Float> for the GPT's softmax, cross-entropy and GELU
// (libm's expf/tanhf per element took over 30% of a baby-GPT step; these are ~1-2 ulp and
// several times faster). Scalar references are Double libm; GPTFastMathTests compares them
// element by element.

typealias F8 = SIMD8<Float>

/// Whether the CPU (and OS) run AVX-512F/BW.
let cpuHasAVX512: Bool = ck_cpu_has_avx512() != 0

/// Whether the GELU and softmax-row kernels run their AVX-512 bodies (CKernels' ckernels_gpt.c)
/// or the SIMD8 ones: AVX-512 where the CPU has it. Tests set it to compare the two.
nonisolated(unsafe) var kernelsUseAVX512: Bool = cpuHasAVX512

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }

@inline(__always)
func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self) }

/// The first n (< 8) elements of p; the other lanes hold `fill`.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> F8 {
    var v = F8(repeating: fill)
    for i in 0..<n { v[i] = p[i] }
    return v
}

/// Stores the first n (< 8) lanes of v.
@inline(__always)
func storePartial(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// e^x, Cephes expf: x = n ln2 + r, |r| <= ln2 / 2, a degree-6 polynomial for e^r, 2^n built
/// in the exponent bits. Inputs are clamped to [-87.3, 88.3] (so e^-inf gives ~1e-38, not 0;
/// callers that need exact zeros mask). Max relative error 7.6e-8 over [-87, 88] (GPTFastMathTests).
@inline(__always)
func fastExp(_ v: F8) -> F8 {
    var x = v.replacing(with: -87.3, where: v .< -87.3)
    x.replace(with: 88.3, where: x .> 88.3)
    let magic = F8(repeating: 12_582_912)                   // 1.5 * 2^23: adding it rounds to an integer
    let t = x * 1.442_695_040_888_963_4 + magic
    let n = t - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4       // ln 2 in two parts (Cody-Waite)
    var p = F8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * (r * r) + r + 1
    let bits = (unsafeBitCast(t, to: SIMD8<UInt32>.self) &- unsafeBitCast(magic, to: SIMD8<UInt32>.self) &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: F8.self)
}

/// tanh(x), Eigen's rational approximation (odd degree 13 over even degree 6, inputs clamped to
/// +-7.9053, within 3e-7 of +-1). Max absolute error 3.7e-7 (GPTFastMathTests); GELU output error <= 0.5 |x| times that.
@inline(__always)
func fastTanh(_ v: F8) -> F8 {
    var x = v.replacing(with: -7.905_311_107_635_498, where: v .< -7.905_311_107_635_498)
    x.replace(with: 7.905_311_107_635_498, where: x .> 7.905_311_107_635_498)
    let x2 = x * x
    var p = F8(repeating: -2.760_768_477_423_55e-16)
    p = p * x2 + 2.000_187_904_824_77e-13
    p = p * x2 - 8.604_671_522_137_35e-11
    p = p * x2 + 5.122_297_090_371_14e-8
    p = p * x2 + 1.485_722_357_179_79e-5
    p = p * x2 + 6.372_619_288_754_36e-4
    p = p * x2 + 4.893_524_558_917_86e-3
    var q = F8(repeating: 1.198_258_394_667_02e-6)
    q = q * x2 + 1.185_347_056_866_54e-4
    q = q * x2 + 2.268_434_632_439_00e-3
    q = q * x2 + 4.893_525_185_543_85e-3
    return x * p / q
}
