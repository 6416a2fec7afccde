import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation of the optimizer kernels runs.
///
/// - `portable`: the Swift SIMD8 kernels in `LionKernel`/`AdamWKernel`. The package builds for
///   baseline x86-64 (SSE2), where fp32<->bf16 conversion costs ~95 instructions per 8
///   elements, so Lion bf16 ran at 0.72-0.93x the speed of Lion fp32 (arithmetic-bound).
/// - `avx2`: the C intrinsics kernels in `Sources/CKernels/ckernels.c` (no FMA, same operation
///   order), used when cpuid says the CPU and OS support AVX2.
/// - `avx512`: AVX-512F/BW versions of Lion bf16 and both AdamW kernels (`ckernels_avx512.c`,
///   16 lanes, masked tails, same operations and order; Lion fp32 stays on the AVX2 kernel,
///   which already saturates memory from one core), used when cpuid reports AVX-512F and
///   AVX-512BW and xgetbv says the OS saves opmask and ZMM state. One core's AVX2 Lion bf16
///   loop (~60 instructions per 16 elements) was compute-bound at DRAM speed (~0.87 of the
///   memory limit); the AVX-512 one is ~25 and, with a software prefetch 512 elements ahead,
///   keeps up with DRAM from one core (0.94-1.0 of `limit-20B`; figures in
///   docs/engine-benchmark.md).
///
/// All are bitwise equal to `Reference` element by element (see `KernelPathTests`).
/// `best` is the widest supported path, chosen once per process; env
/// `LION_DIST_KERNELS=portable|avx2|avx512` forces a path (for measuring it) when the CPU
/// supports it.
public enum KernelPath: String, CaseIterable, Sendable {
    case portable
    case avx2
    case avx512

    /// Whether this CPU can run the path.
    public var isSupported: Bool {
        switch self {
        case .portable: return true
        case .avx2: return KernelPath.cpuHasAVX2
        case .avx512: return KernelPath.cpuHasAVX512
        }
    }

    /// The fastest supported path, unless `LION_DIST_KERNELS` names another supported one.
    public static let best: KernelPath = {
        if let forced = getenv("LION_DIST_KERNELS").map({ String(cString: $0) }),
           let path = KernelPath(rawValue: forced), path.isSupported {
            return path
        }
        return cpuHasAVX512 ? .avx512 : cpuHasAVX2 ? .avx2 : .portable
    }()

    static let cpuHasAVX2: Bool = ck_cpu_has_avx2() != 0
    // AVX-512F implies AVX2 on every shipping CPU; requiring both keeps `best` monotone.
    static let cpuHasAVX512: Bool = cpuHasAVX2 && ck_cpu_has_avx512() != 0
}

extension LionStepConstants {
    var c: CKLionConstants {
        CKLionConstants(lr: lr, b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, decay: decay, scale: gradScale)
    }
}

extension AdamWStepConstants {
    var c: CKAdamWConstants {
        CKAdamWConstants(lr: lr, b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, eps: eps, decay: decay,
                         bc1: biasCorrection1, bc2: biasCorrection2, scale: gradScale)
    }
}
