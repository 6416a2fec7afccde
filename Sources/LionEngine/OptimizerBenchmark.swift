import Basics
import Dispatch

/// `lion-dist bench optimizer`: time the update kernels against memory-only kernels with the
/// same traffic, so each kernel's speed reads as a fraction of what memory allows.
///
/// Kernels, per element (logical bytes counted for GB/s):
/// - `limit-20B`: read p, g, m; write p, m (p += g; m += g): exactly Lion fp32's traffic, 20 B.
/// - `lion-fp32`: 20 B.  `lion-bf16`: p r/w 8 + g 4 + m r/w 4 = 16 B.
/// - `adamw-fp32`: read p, g, m, v; write p, m, v: 28 B.  `limit-28B`: same traffic, adds only.
/// - `lion-cautious`: Lion fp32 with `cautiousFactor` 0 (the whole buffer one tensor): the sign
///   pass (read g, m; write m and 3 bits) and the apply pass (read p and the bits; write p), 20 B
///   of p, g, m as Lion's plus 6 bits; counted as 20 B, so its GB/s and of-limit compare with
///   lion-fp32's directly. `maskedFraction` is its last step's share of masked elements.
/// All run through the same chunking and pool as `LocalOptimizer`. After warm-up rounds the
/// repeats go round-robin over the kernels, so drift on a shared machine hits all alike, and
/// each row reports the median. `fractionOfLimit` = GB/s / GB/s of the limit kernel with the
/// same traffic class (lion-* and limit-20B vs limit-20B; adamw and limit-28B vs limit-28B).
public struct OptimizerBenchmark {
    public struct Row: Sendable, Equatable {
        public var kernel: String
        public var elements: Int
        public var threads: Int
        public var ms: Double
        public var gbPerS: Double
        public var fractionOfLimit: Double
        /// `lion-cautious` only: the fraction of elements masked at its last step.
        public var maskedFraction: Double? = nil
    }

    public static let kernels = ["limit-20B", "lion-fp32", "lion-bf16", "adamw-fp32", "limit-28B", "lion-cautious"]

    public static func bytesPerElement(_ kernel: String) -> Int {
        switch kernel {
        case "lion-bf16": return 16
        case "adamw-fp32", "limit-28B": return 28
        default: return 20
        }
    }

    static func limitKernel(for kernel: String) -> String {
        bytesPerElement(kernel) == 28 ? "limit-28B" : "limit-20B"
    }

    public var sizes: [Int]
    public var threads: [Int]
    public var repeats: Int
    public var warmup: Int

    public init(sizes: [Int], threads: [Int], repeats: Int, warmup: Int = 2) {
        self.sizes = sizes
        self.threads = threads
        self.repeats = max(1, repeats)
        self.warmup = max(0, warmup)
    }

    /// Runs everything; `report` gets each (size, threads) group's rows as soon as they exist.
    @discardableResult
    public func run(report: ([Row]) -> Void = { _ in }) -> [Row] {
        var all: [Row] = []
        for n in sizes {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            let g = UnsafeMutablePointer<Float>.allocate(capacity: n)
            let lm = UnsafeMutablePointer<Float>.allocate(capacity: n)
            let lv = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { p.deallocate(); g.deallocate(); lm.deallocate(); lv.deallocate() }
            var seed: UInt32 = 12345
            for i in 0..<n {
                seed = seed &* 1_664_525 &+ 1_013_904_223
                g[i] = Float(Int32(bitPattern: seed)) / Float(Int32.max)  // in [-1, 1]
                p[i] = 0; lm[i] = 0; lv[i] = 0
            }
            for t in threads {
                let rows = measure(n: n, threads: t, p: p, g: g, lm: lm, lv: lv)
                report(rows)
                all += rows
            }
        }
        return all
    }

    private func measure(n: Int, threads t: Int, p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                         lm: UnsafeMutablePointer<Float>, lv: UnsafeMutablePointer<Float>) -> [Row] {
        let pool = ThreadPool(threads: t)
        let lion = LocalOptimizer(config: .defaults(for: .lion), count: n, pool: pool)
        var bf16Config = OptimizerConfig.defaults(for: .lion)
        bf16Config.stateDType = .bf16
        let lionBF16 = LocalOptimizer(config: bf16Config, count: n, pool: pool)
        let adamw = LocalOptimizer(config: .defaults(for: .adamw), count: n, pool: pool)
        var cautiousConfig = OptimizerConfig.defaults(for: .lion)
        cautiousConfig.cautiousFactor = 0
        let cautious = LocalOptimizer(config: cautiousConfig, count: n, pool: pool)
        var masked = 0.0
        let grads = UnsafePointer(g)
        let bodies: [() -> Void] = [
            { Chunking.forEachChunk(n, pool: pool) { lo, c in limit20(p + lo, grads + lo, lm + lo, c) } },
            { lion.update(params: p, grads: grads, lr: 1e-4, gradScale: 1) },
            { lionBF16.update(params: p, grads: grads, lr: 1e-4, gradScale: 1) },
            { adamw.update(params: p, grads: grads, lr: 1e-3, gradScale: 1) },
            { Chunking.forEachChunk(n, pool: pool) { lo, c in limit28(p + lo, grads + lo, lm + lo, lv + lo, c) } },
            {
                let aligned = cautious.cautiousSign(grads: grads, gradScale: 1)
                cautious.cautiousApply(params: p, lr: 1e-4, aligned: aligned)
                masked = 1 - Double(aligned[0]) / Double(n)
            },
        ]
        var times = [[Double]](repeating: [], count: bodies.count)
        for round in 0..<(warmup + repeats) {
            for (k, body) in bodies.enumerated() {
                let start = monotonicNanoseconds()
                body()
                let ms = Double(monotonicNanoseconds() - start) / 1e6
                if round >= warmup { times[k].append(ms) }
            }
        }
        var rows: [Row] = []
        for (k, name) in Self.kernels.enumerated() {
            let ms = median(times[k])
            let gb = Double(Self.bytesPerElement(name) * n) / (ms * 1e6)
            rows.append(Row(kernel: name, elements: n, threads: t, ms: ms, gbPerS: gb, fractionOfLimit: 0,
                            maskedFraction: name == "lion-cautious" ? masked : nil))
        }
        for i in rows.indices {
            let limit = rows.first { $0.kernel == Self.limitKernel(for: rows[i].kernel) }!
            rows[i].fractionOfLimit = rows[i].gbPerS / limit.gbPerS
        }
        return rows
    }

    /// Lion time / AdamW time for one (size, threads) group; nil if either is missing.
    public static func lionOverAdamW(_ rows: [Row], kernel: String = "lion-fp32") -> Double? {
        guard let l = rows.first(where: { $0.kernel == kernel }),
              let a = rows.first(where: { $0.kernel == "adamw-fp32" }) else { return nil }
        return l.ms / a.ms
    }

    /// Median fork-join cost in microseconds of an empty `parallelFor(threads)` on this pool and
    /// of `DispatchQueue.concurrentPerform(iterations: threads)`.
    public static func forkJoinMicroseconds(threads: Int, iterations: Int = 20_000) -> (pool: Double, concurrentPerform: Double) {
        let pool = ThreadPool(threads: threads)
        let sink = UnsafeMutablePointer<Int>.allocate(capacity: 64 * threads)
        sink.initialize(repeating: 0, count: 64 * threads)
        defer { sink.deallocate() }
        func time(_ body: () -> Void) -> Double {
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            for _ in 0..<1000 { body() }
            for _ in 0..<iterations {
                let s = monotonicNanoseconds()
                body()
                samples.append(Double(monotonicNanoseconds() - s) / 1e3)
            }
            return median(samples)
        }
        let a = time { pool.parallelFor(threads) { sink[$0 * 64] &+= 1 } }
        let b = time { DispatchQueue.concurrentPerform(iterations: threads) { sink[$0 * 64] &+= 1 } }
        return (a, b)
    }
}

/// Memory-only kernel with Lion fp32's traffic: read p, g, m; write p, m.
func limit20(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let gv = load8(g, i)
        store8(load8(p, i) + gv, p, i)
        store8(load8(m, i) + gv, m, i)
        i += 8
    }
    while i < n { p[i] += g[i]; m[i] += g[i]; i += 1 }
}

/// Memory-only kernel with AdamW fp32's traffic: read p, g, m, v; write p, m, v.
func limit28(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
             _ v: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let gv = load8(g, i)
        store8(load8(p, i) + gv, p, i)
        store8(load8(m, i) + gv, m, i)
        store8(load8(v, i) + gv, v, i)
        i += 8
    }
    while i < n { p[i] += g[i]; m[i] += g[i]; v[i] += g[i]; i += 1 }
}
