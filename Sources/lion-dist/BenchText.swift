import Basics
import RunSchema

/// Number and column formatting of the benchmarks' tables and JSON lines.
enum BenchText {
    /// The first line of a benchmark's table: the CPU its figures come from.
    static let cpuLine = "cpu: " + CPUInfo.current.description

    /// `,"cpu":"..."`: the last field of every benchmark JSON line (the text of `cpuLine`; `bench comm`: rank 0's).
    static let cpuField = ",\"cpu\":" + JSON.quote(CPUInfo.current.description)

    /// `x` with exactly `digits` decimals ("null" when not finite, for JSON).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let units = Int((abs(x) * scale).rounded())
        let whole = units / Int(scale), frac = String(units % Int(scale))
        let tail = digits == 0 ? "" : "." + String(repeating: "0", count: digits - frac.count) + frac
        return (x < 0 && units != 0 ? "-" : "") + "\(whole)" + tail
    }

    /// `s` right-aligned in `width` columns.
    static func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

    /// `s` left-aligned in `width` columns.
    static func left(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
}
