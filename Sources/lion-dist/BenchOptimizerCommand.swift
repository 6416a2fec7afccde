import ArgumentParser
import LionEngine
import RunSchema

/// `lion-dist bench optimizer`: Lion and AdamW kernel speed against memory-only limit kernels.
/// All logic lives in `LionEngine.OptimizerBenchmark`; this file parses and prints.
public struct BenchOptimizerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "optimizer",
        abstract: "Time the Lion/AdamW update kernels against memory-only kernels with the same traffic.")

    @Option(parsing: .unconditional, help: "Comma-separated element counts; suffixes K, M, G are powers of 1024 (e.g. 1M,16M,64M,256M).")
    var elements: String = "1M,16M,64M"

    @Option(parsing: .unconditional, help: "Comma-separated thread counts (default: 1 and the cores in this process's affinity mask).")
    var threads: String?

    @Option(parsing: .unconditional, help: "Timed repeats per kernel (after 2 warm-up rounds); rows report the median.")
    var repeats: Int = 9

    @Flag(help: "One JSON object per line: kernel, elements, threads, ms, gb_per_s, fraction_of_limit (and masked_fraction for lion-cautious).")
    var json = false

    public init() {}

    public func validate() throws {
        _ = try Self.parseSizes(elements)
        _ = try Self.parseThreads(threads)
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1, got \(repeats)") }
    }

    public func run() throws {
        let bench = OptimizerBenchmark(sizes: try Self.parseSizes(elements), threads: try Self.parseThreads(threads),
                                       repeats: repeats)
        if !json {
            print(BenchText.cpuLine)
            print("kernels: \(KernelPath.best.rawValue) (LION_DIST_KERNELS=portable|avx2|avx512 forces a path)")
            print("kernel        elements  threads        ms     GB/s  of-limit")
        }
        bench.run { rows in
            for r in rows {
                if json {
                    print("{\"kernel\":\"\(r.kernel)\",\"elements\":\(r.elements),\"threads\":\(r.threads),"
                          + "\"ms\":\(fmt(r.ms, 4)),\"gb_per_s\":\(fmt(r.gbPerS, 3)),\"fraction_of_limit\":\(fmt(r.fractionOfLimit, 4))"
                          + (r.maskedFraction.map { ",\"masked_fraction\":\(fmt($0, 4))" } ?? "") + BenchText.cpuField + "}")
                } else {
                    print(pad(r.kernel, 12) + lpad(Self.sizeLabel(r.elements), 10) + lpad("\(r.threads)", 9)
                          + lpad(fmt(r.ms, 3), 10) + lpad(fmt(r.gbPerS, 2), 9) + lpad(fmt(r.fractionOfLimit, 3), 10))
                }
            }
            if !json, let first = rows.first, let ratio = OptimizerBenchmark.lionOverAdamW(rows),
               let fp32 = rows.first(where: { $0.kernel == "lion-fp32" }),
               let bf16 = rows.first(where: { $0.kernel == "lion-bf16" }) {
                print("  -> \(Self.sizeLabel(first.elements)) x \(first.threads) threads: lion-fp32/adamw-fp32 time "
                      + fmt(ratio, 3) + ", lion-bf16 speedup over lion-fp32 " + fmt(fp32.ms / bf16.ms, 3) + "x")
            }
            if !json, let fp32 = rows.first(where: { $0.kernel == "lion-fp32" }),
               let cautious = rows.first(where: { $0.kernel == "lion-cautious" }) {
                print("  -> lion-cautious (factor 0) / lion-fp32 time " + fmt(cautious.ms / fp32.ms, 3)
                      + ", masked at its last step " + fmt(100 * (cautious.maskedFraction ?? .nan), 1) + "%")
            }
        }
        if !json {
            let maxThreads = try Self.parseThreads(threads).max() ?? 1
            if maxThreads > 1 {
                let fj = OptimizerBenchmark.forkJoinMicroseconds(threads: maxThreads)
                print("fork-join (\(maxThreads) threads, empty body, median): pool \(fmt(fj.pool, 2)) us, "
                      + "DispatchQueue.concurrentPerform \(fmt(fj.concurrentPerform, 2)) us")
            }
        }
    }

    static func parseSizes(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { raw in
            let s = trimmed(raw).uppercased()
            var digits = Substring(s), mult = 1
            switch s.last {
            case "K": mult = 1 << 10; digits = s.dropLast()
            case "M": mult = 1 << 20; digits = s.dropLast()
            case "G": mult = 1 << 30; digits = s.dropLast()
            default: break
            }
            guard let v = Int(digits), v > 0 else {
                throw ValidationError("--elements: '\(raw)' is not a positive count like 1000, 64K or 16M")
            }
            return v * mult
        }
    }

    static func parseThreads(_ text: String?) throws -> [Int] {
        guard let text else {
            let cores = CPUAffinity.coresAvailable()
            return cores > 1 ? [1, cores] : [1]
        }
        let cores = CPUAffinity.coresAvailable()
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { raw in
            guard let t = Int(trimmed(raw)), t >= 1 else {
                throw ValidationError("--threads: '\(raw)' is not a thread count >= 1")
            }
            guard t <= cores else {
                throw ValidationError("--threads \(t) is more than the \(cores) core(s) this process may use (its CPU affinity); use at most \(cores)")
            }
            return t
        }
    }

    static func sizeLabel(_ n: Int) -> String {
        if n % (1 << 30) == 0 { return "\(n >> 30)G" }
        if n % (1 << 20) == 0 { return "\(n >> 20)M" }
        if n % (1 << 10) == 0 { return "\(n >> 10)K" }
        return "\(n)"
    }
}

private func fmt(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "null" }
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    var s = "\(r)"
    if s.contains("e") { return s }
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    let frac = parts.count > 1 ? String(parts[1]) : ""
    s = String(parts[0]) + "." + frac + String(repeating: "0", count: max(0, digits - frac.count))
    return s
}

private func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
private func lpad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }

private func trimmed<S: StringProtocol>(_ s: S) -> String {
    String(s.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}
