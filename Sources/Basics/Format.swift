import Foundation

/// Human-readable units for progress lines and tables.
public enum Format {
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.2f %@", value, units[unit])
    }

    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }

    public static func rate(_ perSecond: Double) -> String {
        String(format: "%.0f", perSecond)
    }

    public static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let gap = max(0, width - s.count)
        return right ? String(repeating: " ", count: gap) + s : s + String(repeating: " ", count: gap)
    }

    /// Columns padded to their widest cell, two spaces apart; numbers right-aligned, the
    /// `leftColumns` (names) left-aligned.
    public static func table(header: [String], rows: [[String]], leftColumns: Set<Int>) -> String {
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ row: [String]) -> String {
            row.enumerated().map { pad($0.element, widths[$0.offset], right: !leftColumns.contains($0.offset)) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
