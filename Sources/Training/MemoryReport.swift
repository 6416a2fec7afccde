import Collectives
import Foundation

/// One rank's memory, as accounted (buffers it allocated) and as measured (peak RSS).
public struct RankMemory: Sendable {
    public let rank: Int
    public let host: String
    public let paramBytes: Int
    public let gradBytes: Int
    public let optimizerStateBytes: Int
    public let peakRSSBytes: Int

    var json: JSON {
        .object([("rank", .int(rank)), ("host", .string(host)), ("param_bytes", .int(paramBytes)),
                 ("grad_bytes", .int(gradBytes)), ("optimizer_state_bytes", .int(optimizerStateBytes)),
                 ("peak_rss_bytes", .int(peakRSSBytes))])
    }
}

package enum MemoryReport {
    /// VmHWM from /proc/self/status: the peak resident set size, in bytes (0 if unreadable).
    package static func peakRSSBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }

    /// Resets VmHWM to the current RSS (Linux >= 4.0: "5" into /proc/self/clear_refs), so the
    /// next run of a sweep reports its own peak. Harmless where unsupported.
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Gathers every rank's row (collective: all ranks call it).
    static func gather(_ mine: RankMemory, comm: Communicator) throws -> [RankMemory] {
        let hostWidth = 64
        var bytes = [UInt8](repeating: 0, count: hostWidth + 4 * 8)
        let host = Array(mine.host.utf8.prefix(hostWidth - 1))
        bytes.replaceSubrange(0..<host.count, with: host)
        for (i, v) in [mine.paramBytes, mine.gradBytes, mine.optimizerStateBytes, mine.peakRSSBytes].enumerated() {
            withUnsafeBytes(of: Int64(v).littleEndian) { bytes.replaceSubrange((hostWidth + 8 * i)..<(hostWidth + 8 * i + 8), with: $0) }
        }
        return try comm.allgatherBytes(bytes).enumerated().map { rank, row in
            func field(_ i: Int) -> Int {
                Int(Int64(littleEndian: row[(hostWidth + 8 * i)..<(hostWidth + 8 * i + 8)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }))
            }
            return RankMemory(rank: rank, host: String(decoding: row.prefix { $0 != 0 }, as: UTF8.self),
                              paramBytes: field(0), gradBytes: field(1), optimizerStateBytes: field(2), peakRSSBytes: field(3))
        }
    }

    static func table(_ rows: [RankMemory]) -> String {
        let header = ["rank", "host", "params", "grads", "optimizer state", "peak RSS"]
        let cells = rows.map { ["\($0.rank)", $0.host, Format.bytes($0.paramBytes), Format.bytes($0.gradBytes),
                                Format.bytes($0.optimizerStateBytes), Format.bytes($0.peakRSSBytes)] }
        let widths = header.indices.map { c in ([header[c]] + cells.map { $0[c] }).map(\.count).max()! }
        func line(_ row: [String]) -> String {
            row.enumerated().map { Format.pad($0.element, widths[$0.offset], right: $0.offset != 1) }.joined(separator: "  ")
        }
        return ([line(header)] + cells.map(line)).joined(separator: "\n")
    }
}
