#if canImport(Glibc)
import Glibc
#endif

/// The CPUs this process may run on.
public enum CPUAffinity {
    /// Number of CPUs in this thread's sched_getaffinity mask (so `taskset`, cgroups cpusets
    /// and MPI binding are honoured), at least 1. Falls back to the online CPU count if the
    /// call is unavailable.
    public static func coresAvailable() -> Int {
        let n = count(mask())
        return n >= 1 ? n : max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The sched_getaffinity mask of process `pid` (0: the calling thread) as 64-bit words
    /// (bit i of word w is CPU 64*w+i); all zero if the call is unavailable or fails (a
    /// process that has gone). Glibc hides `sched_getaffinity` behind _GNU_SOURCE, which
    /// Swift's Glibc module does not define, so it is looked up with dlsym.
    public static func mask(of pid: Int32 = 0) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: wordCount)
        #if os(Linux)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
        if let symbol = lookUp("sched_getaffinity") {
            let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
            let rc = words.withUnsafeMutableBytes { getAffinity(pid, $0.count, $0.baseAddress) }
            if rc != 0 { return [UInt64](repeating: 0, count: wordCount) }
        }
        #endif
        return words
    }

    /// Sets the calling thread's mask (threads it starts afterwards inherit it); false if
    /// the call is unavailable or refused.
    @discardableResult
    public static func setMask(_ words: [UInt64]) -> Bool {
        #if os(Linux)
        typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer?) -> Int32
        guard let symbol = lookUp("sched_setaffinity") else { return false }
        let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
        var full = words
        full += [UInt64](repeating: 0, count: max(0, wordCount - words.count))
        return full.withUnsafeBytes { setAffinity(0, $0.count, $0.baseAddress) } == 0
        #else
        return false
        #endif
    }

    /// The CPU numbers set in `mask`, ascending.
    public static func cpus(_ mask: [UInt64]) -> [Int] {
        mask.enumerated().flatMap { w, word in (0..<64).filter { word & (1 << UInt64($0)) != 0 }.map { 64 * w + $0 } }
    }

    /// The mask holding exactly `cpus`.
    public static func mask(cpus: [Int]) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: wordCount)
        for c in cpus where c >= 0 && c < 64 * wordCount { words[c / 64] |= 1 << UInt64(c % 64) }
        return words
    }

    /// CPUs set in `mask`.
    public static func count(_ mask: [UInt64]) -> Int { mask.reduce(0) { $0 + $1.nonzeroBitCount } }

    private static let wordCount = MemoryLayout<cpu_set_t>.size / 8

    private static func lookUp(_ name: String) -> UnsafeMutableRawPointer? {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, name)
    }
}
