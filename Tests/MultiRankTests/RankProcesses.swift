import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lion-dist processes of an mpirun job, read from /proc: for holding a run at a known point
/// (SIGSTOP, SIGCONT) instead of racing it.
enum RankProcesses {
    /// Every `lion-dist` process descended from `root` (mpirun's pid), sorted.
    static func of(_ root: pid_t) -> [pid_t] {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        var parent: [pid_t: pid_t] = [:]
        var name: [pid_t: String] = [:]
        for pid in all {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            name[pid] = String(stat[stat.index(after: open)..<close])
            let rest = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if rest.count > 1, let ppid = pid_t(rest[1]) { parent[pid] = ppid }
        }
        func descends(_ pid: pid_t) -> Bool {
            var p = parent[pid]
            for _ in 0..<64 {
                guard let q = p, q > 1 else { return false }
                if q == root { return true }
                p = parent[q]
            }
            return false
        }
        return all.filter { name[$0] == "lion-dist" && descends($0) }.sorted()
    }

    /// The state letter of /proc/PID/stat ("R", "S", "T" for stopped, ...); "" once it is gone.
    static func state(_ pid: pid_t) -> String {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return "" }
        return String(stat[stat.index(close, offsetBy: 2)...].prefix(1))
    }

    /// Whether `signal` is pending for the process (SigPnd or ShdPnd of /proc/PID/status).
    static func pending(_ pid: pid_t, _ signal: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let bit = UInt64(1) << UInt64(signal - 1)
        return status.split(separator: "\n").contains { line in
            (line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"))
                && (UInt64(line.split(separator: "\t").last.map(String.init) ?? "", radix: 16) ?? 0) & bit != 0
        }
    }
}

/// A test that cannot go on: the reason, as the failure.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
