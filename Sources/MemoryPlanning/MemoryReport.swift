import Basics
import Collectives
import Foundation
import RankProcess
import RunSchema

/// One rank's memory: as accounted (the buffers it holds, by category) and as measured
/// (peak Pss at the step's peak and at the end, peak RSS).
public struct RankMemory: Sendable {
    public let rank: Int
    public let host: String
    /// The full parameter and gradient buffers this rank maps (`param_bytes`, `grad_bytes`).
    public let paramBytes: Int
    public let gradBytes: Int
    public let optimizerStateBytes: Int
    public let peakRSSBytes: Int
    /// The largest Pss sampled (step peaks and the end) and the one at the end.
    public let peakPssBytes: Int
    public let endPssBytes: Int
    /// What the rank holds by category; `runtime` is the rest of the peak Pss.
    public let held: MemoryBreakdown

    /// One object of the summary's `ranks`.
    package var json: [(String, JSON)] {
        typealias R = Summary.Rank
        return [R.rank(rank), R.host(host), R.paramBytes(paramBytes), R.gradBytes(gradBytes),
                R.optimizerStateBytes(optimizerStateBytes), R.peakRSSBytes(peakRSSBytes), R.peakPssBytes(peakPssBytes),
                R.endPssBytes(endPssBytes), R.heldBytes(held.json)]
    }

    /// The numbers as `gather` sends them, in the order `init(rank:host:ints:)` reads them.
    package var ints: [Int] {
        [paramBytes, gradBytes, optimizerStateBytes, peakRSSBytes, peakPssBytes, endPssBytes] + held.values
    }

    package init(rank: Int, host: String, paramBytes: Int, gradBytes: Int, optimizerStateBytes: Int, peakRSSBytes: Int,
         peakPssBytes: Int, endPssBytes: Int, held: MemoryBreakdown) {
        self.rank = rank
        self.host = host
        self.paramBytes = paramBytes
        self.gradBytes = gradBytes
        self.optimizerStateBytes = optimizerStateBytes
        self.peakRSSBytes = peakRSSBytes
        self.peakPssBytes = peakPssBytes
        self.endPssBytes = endPssBytes
        self.held = held
    }

    package init(rank: Int, host: String, ints f: [Int]) {
        var held = MemoryBreakdown()
        (held.parameters, held.computeParameters, held.gradients, held.optimizerState) = (f[6], f[7], f[8], f[9])
        (held.activations, held.dataset, held.runtime) = (f[10], f[11], f[12])
        self.init(rank: rank, host: host, paramBytes: f[0], gradBytes: f[1], optimizerStateBytes: f[2],
                  peakRSSBytes: f[3], peakPssBytes: f[4], endPssBytes: f[5], held: held)
    }
}

package enum MemoryReport {
    /// VmHWM from /proc/self/status: the peak resident set size, in bytes (0 if unreadable).
    package static func peakRSSBytes() -> Int { ProcessMemory.peakRSSBytes() }

    /// Resets VmHWM to the current RSS (Linux >= 4.0: "5" into /proc/self/clear_refs), so the
    /// next run of a sweep reports its own peak. Harmless where unsupported.
    package static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Gathers every rank's row (collective: all ranks call it).
    package static func gather(_ mine: RankMemory, comm: Communicator) throws -> [RankMemory] {
        let hosts = try comm.allgather(mine.host, capacity: 64)
        let ints = try comm.allgather(mine.ints.map(Int64.init))
        return zip(hosts, ints).enumerated().map { rank, row in
            RankMemory(rank: rank, host: row.0, ints: row.1.map(Int.init))
        }
    }

    /// One row per rank: what it holds, its peak and end Pss, its peak RSS (VmHWM).
    package static func table(_ rows: [RankMemory]) -> String {
        let header = ["rank", "host", "params (share)", "grads", "optimizer state", "peak Pss", "end Pss", "peak RSS"]
        let cells = rows.map { ["\($0.rank)", $0.host, Format.bytes($0.held.parameters), Format.bytes($0.held.gradients),
                                Format.bytes($0.optimizerStateBytes), Format.bytes($0.peakPssBytes),
                                Format.bytes($0.endPssBytes), Format.bytes($0.peakRSSBytes)] }
        return Format.table(header: header, rows: cells, leftColumns: [1])
    }

    /// Rank 0's categories, predicted (`lion-dist plan`) beside held; the measured total is the
    /// peak Pss, and the measured runtime is whatever of it the other categories do not explain.
    package static func planTable(_ plan: MemoryPlan, _ row: RankMemory) -> String {
        let cells = zip(MemoryBreakdown.labels, zip(plan.perRank.values, row.held.values)).map {
            [$0, Format.bytes($1.0), Format.bytes($1.1)]
        } + [["total (measured: peak Pss)", Format.bytes(plan.perRank.total), Format.bytes(row.peakPssBytes)]]
        return Format.table(header: ["rank \(row.rank)", "predicted", "measured"], rows: cells, leftColumns: [0])
    }
}
