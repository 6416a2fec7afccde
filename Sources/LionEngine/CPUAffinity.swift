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
        #if os(Linux)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sched_getaffinity") {
            let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
            var set = cpu_set_t()
            let rc = withUnsafeMutableBytes(of: &set) { getAffinity(0, $0.count, $0.baseAddress) }
            if rc == 0 {
                let n = withUnsafeBytes(of: &set) { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
                if n >= 1 { return n }
            }
        }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }
}
