#if canImport(Glibc)
import Glibc
#endif
import CKernels
import COpenBLAS

/// The kernel set OpenBLAS runs (its "core", e.g. SkylakeX), and its repair on CPUs newer than
/// the library. Debian's OpenBLAS 0.3.21 picks its kernels from the CPU's model number at load
/// time and falls back to Prescott (SSE3) on models it does not know: on the Intel Xeon
/// (family 6, model 207) with AVX512-BF16, 2 cores, the baby GPT then trained at 3,957 tokens/s
/// on one thread, and at 17,996 with `OPENBLAS_CORETYPE=SkylakeX` (`lion-dist bench gpt
/// --threads 1 --steps 200`, medians). So when OpenBLAS runs Prescott, the user did not set
/// OPENBLAS_CORETYPE, and cpuid says the CPU and OS have AVX-512 (F, BW) or AVX2, OpenBLAS is
/// told to pick again: SkylakeX or Haswell.
public enum OpenBLASCore {
    /// The core OpenBLAS runs now.
    public static var name: String { String(cString: openblas_get_corename()) }

    /// The core chosen in place of OpenBLAS's own pick, or nil when its pick stood.
    /// Evaluated once, by `ComputeThreads.set` before the first product.
    public static let replaced: String? = {
        guard getenv("OPENBLAS_CORETYPE") == nil, name.lowercased() == "prescott" else { return nil }
        let core = ck_cpu_has_avx512() == 1 ? "SkylakeX" : ck_cpu_has_avx2() == 1 ? "Haswell" : nil
        guard let core, lion_openblas_choose_core(core) == 1, name == core else { return nil }
        return core
    }()

    /// For banners: "SkylakeX kernels" (", chosen by lion-dist: OpenBLAS did not know this CPU").
    public static var description: String {
        "\(name) kernels" + (replaced != nil ? ", chosen by lion-dist: OpenBLAS did not know this CPU" : "")
    }
}
