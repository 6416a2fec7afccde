#if canImport(Glibc)
import Glibc
#endif

/// The CPUs this process may run on.
public enum CPUAffinity {
    /// Number of CPUs in this thread's sched_getaffinity mask (so `taskset`, cgroups cpusets
    /// and MPI binding are honoured), at least 1. Falls back to the online CPU count if the
    /// call is unavailable. Glibc hides `sched_getaffinity` behind _GNU_SOURCE, which Swift's
    /// Glibc module does not define, so it is looked up with dlsym.
    public static func coresAvailable() -> Int {
        let n = mask().reduce(0) { $0 + $1.nonzeroBitCount }
        return n >= 1 ? n : max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// This thread's sched_getaffinity mask as 64-bit words (bit i of word w is CPU 64*w+i);
    /// all zero if the call is unavailable. Glibc hides `sched_getaffinity` behind
    /// _GNU_SOURCE, which Swift's Glibc module does not define, so it is looked up with dlsym.
    public static func mask() -> [UInt64] {
        var words = [UInt64](repeating: 0, count: MemoryLayout<cpu_set_t>.size / 8)
        #if os(Linux)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sched_getaffinity") {
            let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
            _ = words.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress) }
        }
        #endif
        return words
    }
}
