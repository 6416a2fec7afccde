import Basics
import CDNNL
import Foundation

/// Whether this CPU multiplies bf16 natively, as oneDNN sees it.
///
/// Native means oneDNN's effective ISA is avx512_core_bf16 or above (AMX included): its
/// kernels then use vdpbf16ps (or tiles). Below that oneDNN still computes bf16 products, but
/// by widening to fp32 in software, slower than plain fp32 sgemm: `--compute-dtype bf16`
/// refuses such a CPU instead.
public enum BF16Support {
    /// oneDNN's effective ISA: the highest one it dispatches to on this CPU.
    static var effectiveISA: dnnl_cpu_isa_t { dnnl_get_effective_cpu_isa() }

    /// Its name, for the banner ("avx512_core_bf16").
    public static var isaName: String { name(effectiveISA) }

    /// avx512_core_bf16's bits are a subset of every ISA at or above it (AMX: 0x3e7 ⊇ 0xe7);
    /// avx2_vnni (0x407) lacks them.
    static func isNative(_ isa: dnnl_cpu_isa_t) -> Bool {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return isa.rawValue & bf16 == bf16
    }

    public static var isNative: Bool { isNative(effectiveISA) }

    /// oneDNN's name for an ISA ("avx512_core_bf16").
    static func name(_ isa: dnnl_cpu_isa_t) -> String {
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa 0x\(String(isa.rawValue, radix: 16))"
        }
    }

    /// nil when bf16 is native here, else one line saying why not, naming the CPU, e.g.
    /// "bf16 would be emulated on Intel(R) Xeon(R) CPU E5-2690 v4: oneDNN's ISA is avx2, native
    /// bf16 needs avx512_core_bf16 or AMX".
    public static func refusalReason() -> String? { refusalReason(isa: effectiveISA, cpu: CPUInfo.current.modelName) }

    static func refusalReason(isa: dnnl_cpu_isa_t, cpu: String) -> String? {
        if isNative(isa) { return nil }
        return "bf16 would be emulated on \(cpu): oneDNN's ISA is \(name(isa)), native bf16 needs avx512_core_bf16 or AMX"
    }
}

/// The OpenMP threads oneDNN runs a primitive on. libdnnl is built on libgomp, whose thread
/// count belongs to the calling thread: `set` on one thread does not change another's.
/// `BF16GEMM` sets its own count on the calling thread before each product.
public enum DNNLThreads {
    public static func set(_ n: Int) {
        precondition(n >= 1, "oneDNN threads must be >= 1, got \(n)")
        CDNNL_set_threads(Int32(n))
    }

    /// The calling thread's count (omp_get_max_threads).
    public static var current: Int { Int(CDNNL_max_threads()) }
}
