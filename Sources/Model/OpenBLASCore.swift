import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which of OpenBLAS's kernels run. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know
/// AMD's Zen 4 and Zen 5 as AVX-512 CPUs and picks its Haswell (AVX2) kernels there: about
/// half the sgemm rate (measured on an AMD EPYC with avx512f/bw/dq/vl, 6/6/384 GPT at 2
/// threads: 352-364 tokens/s Haswell, 492-817 SkylakeX, same run). It reads
/// OPENBLAS_CORETYPE once, when it loads, so `lion-dist` re-executes itself once, before MPI
/// starts, with OPENBLAS_CORETYPE=SkylakeX where the CPU has those AVX-512 subsets and
/// OpenBLAS chose an AVX2 core. A value the user set is kept as it is.
public enum OpenBLASCore {
    /// OpenBLAS's core name ("Haswell", "SkylakeX", "Zen", ...).
    public static var name: String { String(cString: openblas_get_corename()) }

    /// The AVX-512 subsets SkylakeX's kernels use.
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]

    /// The core to ask OpenBLAS for, or nil to keep its own choice.
    static func preferred(current: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, ["Haswell", "Zen"].contains(current),
              skylakeXFlags.isSubset(of: cpuFlags) else { return nil }
        return "SkylakeX"
    }

    /// The flags of the first processor in /proc/cpuinfo (empty where unreadable).
    static func cpuFlags() -> Set<String> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: ":").dropFirst().joined().split(separator: " ").map(String.init))
    }

    /// Re-executes this process with the preferred core, if any (returns only when there is
    /// none, or when the exec fails). Call first thing in `main`, before threads or MPI.
    public static func reexecWithFasterKernelsIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard let core = preferred(current: name, cpuFlags: cpuFlags(), environment: env) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let args = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", args)
        unsetenv("OPENBLAS_CORETYPE")   // exec failed: go on with OpenBLAS's own choice
    }
}
