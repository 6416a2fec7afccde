import Basics
import Foundation

/// What this process's memory measures at one moment, from /proc (Linux; zeros elsewhere).
///
/// VmHWM (peak resident set) counts every node-shared page in full in every rank that has
/// touched it, so with parameters in a node-shared window it overstates a rank by (k-1)/k of
/// the shared bytes. Pss (proportional set size) divides each shared page among the processes
/// that map it: the sum of the ranks' Pss is what the node really holds.
public enum ProcessMemory {
    /// Pss of this process's data, from /proc/self/smaps_rollup, in bytes: `Pss_Anon` (heap,
    /// stacks, private buffers) + `Pss_Shmem` (the node-shared windows, divided among the ranks
    /// that map them). File-backed pages (the code of the binary and its libraries) are left out:
    /// their share depends on how many other processes on the machine map the same libraries,
    /// which says nothing about this run (measured: ~20 MiB of library pages, so a lone rank's
    /// total Pss is ~10 MiB higher than each of two ranks'). Falls back to the total Pss on
    /// kernels without the split (before 5.9); 0 if unreadable. The kernel walks the page tables
    /// to compute it: ~0.1-1 ms for a few hundred MiB, so sample it, do not poll.
    public static func pssBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return 0 }
        let anon = field("Pss_Anon:", inText: text), shmem = field("Pss_Shmem:", inText: text)
        return anon ?? 0 > 0 || shmem ?? 0 > 0 ? (anon ?? 0) + (shmem ?? 0) : (field("Pss:", inText: text) ?? 0)
    }

    /// VmHWM from /proc/self/status: the peak resident set size, in bytes (0 if unreadable).
    public static func peakRSSBytes() -> Int {
        field("VmHWM:", in: "/proc/self/status")
    }

    /// The first line starting with `key`: its number of kB, in bytes.
    package static func field(_ key: String, in path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return field(key, inText: text) ?? 0
    }

    package static func field(_ key: String, inText text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            // "VmHWM:\t 137012 kB", but "VmHWM:\t10006460 kB" from 8 digits on: split on tabs too.
            return (line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first ?? 0) * 1024
        }
        return nil
    }
}

/// Samples Pss at the step's peak (after backward, before the update frees or reuses anything)
/// on the first steps and then every `interval` steps, and once more at the end; keeps the
/// largest. The first steps are where the peak is set (every buffer has been touched once by
/// then); later samples catch growth (allocator fragmentation, lazily touched pages).
package struct PssSampler {
    package init() {}
    package static let firstSteps = 3
    package static let interval = 100
    package private(set) var peak = 0
    package private(set) var samples = 0

    package mutating func atStepPeak(_ step: Int) {
        guard step < Self.firstSteps || step % Self.interval == 0 else { return }
        sample()
    }

    package mutating func sample() {
        peak = max(peak, ProcessMemory.pssBytes())
        samples += 1
    }
}
