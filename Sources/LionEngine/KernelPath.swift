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
/// - `avx2`: the C intrinsics kernels in `Sources/CKernels` (no FMA, same operation order),
///   used when cpuid says the CPU and OS support AVX2.
///
/// Both are bitwise equal to `Reference` element by element (see `KernelPathTests`).
/// `best` is chosen once per process; env `LION_DIST_KERNELS=portable` forces the fallback
/// (for measuring it).
public enum KernelPath: String, CaseIterable, Sendable {
    case portable
    case avx2

    /// Whether this CPU can run the path.
    public var isSupported: Bool {
        switch self {
        case .portable: return true
        case .avx2: return KernelPath.cpuHasAVX2
        }
    }

    /// The fastest supported path, unless `LION_DIST_KERNELS=portable`.
    public static let best: KernelPath = {
        if let forced = getenv("LION_DIST_KERNELS").map({ String(cString: $0) }),
           let path = KernelPath(rawValue: forced), path.isSupported {
            return path
        }
        return cpuHasAVX2 ? .avx2 : .portable
    }()

    static let cpuHasAVX2: Bool = ck_cpu_has_avx2() != 0
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
