import Basics
import Dispatch
import Foundation

/// oneDNN bf16 products against OpenBLAS sgemm on the GPT's shapes, printed by hand
/// (`BF16BenchmarkTests`, LION_DIST_BF16_BENCH=full) to choose the bf16 path and its threading.
///
/// Each product runs as C (M, N) = op(A) op(B) in the GPT's three patterns: "NT" (linear
/// forward, x W^T), "NN" (backward dx = dout W) and "TN" (backward dw = dout^T x). Rates are
/// medians over `repetitions` rounds of one interleaved run (every round times every case, bf16
/// and sgemm alternately), so a busy neighbour slows both alike. `narrow` is the cost of
/// converting the fp32 activation A (M x K) to bf16 before a call, on the same threads.
public struct BF16MatmulBenchmark {
    public struct Shape: Sendable, Equatable { public var M, N, K: Int }
    public enum Pattern: String, CaseIterable, Sendable { case NT, NN, TN }

    public struct Row: Sendable {
        public var shape: Shape
        public var pattern: Pattern
        public var threads: Int
        public var bf16Seconds, sgemmSeconds, narrowSeconds: Double
        /// Process CPU seconds (all threads, spinning included) per call: on a busy machine a
        /// steadier figure than wall time.
        public var bf16CPUSeconds, sgemmCPUSeconds: Double
        public var implementation: String
        var flops: Double { 2 * Double(shape.M) * Double(shape.N) * Double(shape.K) }
        public var bf16GFLOPS: Double { flops / bf16Seconds * 1e-9 }
        public var sgemmGFLOPS: Double { flops / sgemmSeconds * 1e-9 }
        public var bf16GFLOPSPerCPUSecond: Double { flops / bf16CPUSeconds * 1e-9 }
        public var sgemmGFLOPSPerCPUSecond: Double { flops / sgemmCPUSeconds * 1e-9 }
    }

    /// The GPT's products at 384 wide, 3072 tokens per micro-batch (C 384, 3C 1152, 4C 1536).
    public static let gptShapes = [Shape(M: 3072, N: 1152, K: 384), Shape(M: 3072, N: 384, K: 1536),
                                   Shape(M: 3072, N: 1536, K: 384), Shape(M: 1024, N: 1024, K: 1024)]

    public var shapes: [Shape]
    public var threads: [Int]
    public var repetitions: Int

    public init(shapes: [Shape] = gptShapes, threads: [Int] = [1, 2], repetitions: Int = 7) {
        self.shapes = shapes
        self.threads = threads
        self.repetitions = repetitions
    }

    /// Operands of one shape: fp32 A and B (for sgemm and for narrowing), their bf16 copies, C.
    final class Operands {
        let a, b, c: [Float]
        let a16, b16: [UInt16]
        init(_ s: Shape) {
            a = (0..<(s.M * s.K)).map { Float(($0 * 7919) % 1000) * 1e-3 - 0.5 }
            b = (0..<(s.K * s.N)).map { Float(($0 * 104_729) % 1000) * 1e-3 - 0.5 }
            c = [Float](repeating: 0, count: s.M * s.N)
            a16 = Self.narrowed(a)
            b16 = Self.narrowed(b)
        }

        static func narrowed(_ x: [Float]) -> [UInt16] {
            [UInt16](unsafeUninitializedCapacity: x.count) { h, n in
                x.withUnsafeBufferPointer { BF16Convert.narrow($0.baseAddress!, to: h.baseAddress!, count: x.count) }
                n = x.count
            }
        }
    }

    static func seconds(_ body: () -> Void) -> Double { times(body).wall }

    /// Wall and process CPU seconds of `body`.
    static func times(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        let start = DispatchTime.now().uptimeNanoseconds, cpu = cpuNow()
        body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, cpuNow() - cpu)
    }

    /// (transA, transB, lda, ldb) of a pattern: A is (M, K) or, for TN, (K, M); B is (N, K) for NT.
    static func layout(_ p: Pattern, _ s: Shape) -> (Bool, Bool, Int, Int) {
        switch p {
        case .NT: return (false, true, s.K, s.K)
        case .NN: return (false, false, s.K, s.N)
        case .TN: return (true, false, s.M, s.N)
        }
    }

    public func run() -> [Row] {
        let saved = ComputeThreads.count
        defer { ComputeThreads.set(saved) }
        let operands = shapes.map(Operands.init)
        let gemms = Dictionary(uniqueKeysWithValues: threads.map { ($0, BF16GEMM(threads: $0)) })
        struct Case { var shape: Int, pattern: Pattern, threads: Int }
        let cases = shapes.indices.flatMap { s in Pattern.allCases.flatMap { p in threads.map { Case(shape: s, pattern: p, threads: $0) } } }
        var bf16 = [[Double]](repeating: [], count: cases.count), sg = bf16, nar = bf16, bf16CPU = bf16, sgCPU = bf16
        var scratch = [UInt16](repeating: 0, count: shapes.map { $0.M * $0.K }.max() ?? 0)
        for round in 0...repetitions {  // round 0 warms up (creates the primitives)
            for (i, k) in cases.enumerated() {
                let s = shapes[k.shape], o = operands[k.shape], g = gemms[k.threads]!
                let (ta, tb, lda, ldb) = Self.layout(k.pattern, s)
                ComputeThreads.set(k.threads)
                var c = o.c
                let tb16 = o.a16.withUnsafeBufferPointer { a in o.b16.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { pc in
                    Self.times { g.gemm(ta, tb, M: s.M, N: s.N, K: s.K, a.baseAddress!, lda: lda, b.baseAddress!, ldb: ldb,
                                          pc.baseAddress!, ldc: s.N, accumulate: false) }
                } } }
                let tsg = o.a.withUnsafeBufferPointer { a in o.b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { pc in
                    Self.times { sgemm(ta, tb, M: s.M, N: s.N, K: s.K, a.baseAddress!, lda: lda, b.baseAddress!, ldb: ldb,
                                         pc.baseAddress!, ldc: s.N, accumulate: false) }
                } } }
                let tna = o.a.withUnsafeBufferPointer { a in scratch.withUnsafeMutableBufferPointer { d in
                    Self.seconds { BF16Convert.narrow(a.baseAddress!, to: d.baseAddress!, count: s.M * s.K) }
                } }
                if round > 0 {
                    bf16[i].append(tb16.wall)
                    sg[i].append(tsg.wall)
                    bf16CPU[i].append(tb16.cpu)
                    sgCPU[i].append(tsg.cpu)
                    nar[i].append(tna)
                }
            }
        }
        return cases.enumerated().map { i, k in
            let s = shapes[k.shape], (ta, tb, lda, ldb) = Self.layout(k.pattern, s)
            return Row(shape: s, pattern: k.pattern, threads: k.threads, bf16Seconds: median(bf16[i]),
                       sgemmSeconds: median(sg[i]), narrowSeconds: median(nar[i]),
                       bf16CPUSeconds: median(bf16CPU[i]), sgemmCPUSeconds: median(sgCPU[i]),
                       implementation: gemms[k.threads]!.implementation(ta, tb, M: s.M, N: s.N, K: s.K, lda: lda, ldb: ldb,
                                                                          ldc: s.N, accumulate: false))
        }
    }

    /// One line per row: shape, pattern, threads, GFLOP/s of each, speedup, narrowing cost.
    public static func table(_ rows: [Row]) -> String {
        var out = ["    M     N     K  op thr  bf16 GF/s  sgemm GF/s  bf16/fp32 | per CPU-s: bf16  sgemm | narrow A us (% of bf16)  kernel"]
        for r in rows {
            out.append(String(format: "%5d %5d %5d  %@ %3d %10.1f %11.1f %10.2f |  %14.1f %6.1f | %11.0f %6.1f%%     %@",
                              r.shape.M, r.shape.N, r.shape.K, r.pattern.rawValue, r.threads, r.bf16GFLOPS, r.sgemmGFLOPS,
                              r.sgemmSeconds / r.bf16Seconds, r.bf16GFLOPSPerCPUSecond, r.sgemmGFLOPSPerCPUSecond,
                              r.narrowSeconds * 1e6, 100 * r.narrowSeconds / r.bf16Seconds,
                              r.implementation))
        }
        return out.joined(separator: "\n")
    }

    /// Two ways to spend 2 cores on one product: one call on 2 OpenMP threads from the calling
    /// thread, or two threads at once, each with its own `BF16GEMM` on 1 OpenMP thread, each
    /// taking half of C's rows; and 1 thread alone for scale. Medians of `repetitions`
    /// interleaved rounds, and the largest |difference| of the split's C from the 2-thread call's.
    public struct Split: Sendable {
        public var oneCallTwoThreads, twoCallsOneThreadEach, oneThread: Double
        /// Process CPU seconds of each (all threads, OpenMP's spinning included).
        public var oneCallTwoThreadsCPU, twoCallsOneThreadEachCPU, oneThreadCPU: Double
        public var maxDifference: Float
        public var flops: Double
    }

    public func split(_ s: Shape, _ pattern: Pattern) -> Split {
        let o = Operands(s)
        let (ta, tb, lda, ldb) = Self.layout(pattern, s)
        let two = BF16GEMM(threads: 2), one = BF16GEMM(threads: 1), halves = [BF16GEMM(threads: 1), BF16GEMM(threads: 1)]
        var c2 = o.c, cs = o.c
        var t2: [(wall: Double, cpu: Double)] = [], ts = t2, t1 = t2
        o.a16.withUnsafeBufferPointer { pa in o.b16.withUnsafeBufferPointer { pb in
            let a = pa.baseAddress!, b = pb.baseAddress!
            for round in 0...repetitions {
                let x = c2.withUnsafeMutableBufferPointer { c in
                    Self.times { two.gemm(ta, tb, M: s.M, N: s.N, K: s.K, a, lda: lda, b, ldb: ldb, c.baseAddress!, ldc: s.N, accumulate: false) }
                }
                let y = cs.withUnsafeMutableBufferPointer { c in
                    let base = c.baseAddress!
                    return Self.times {
                        DispatchQueue.concurrentPerform(iterations: 2) { h in
                            let r0 = h * s.M / 2, rows = (h + 1) * s.M / 2 - r0
                            halves[h].gemm(ta, tb, M: rows, N: s.N, K: s.K, a + (ta ? r0 : r0 * lda), lda: lda, b, ldb: ldb,
                                           base + r0 * s.N, ldc: s.N, accumulate: false)
                        }
                    }
                }
                var c1 = o.c
                let z = c1.withUnsafeMutableBufferPointer { c in
                    Self.times { one.gemm(ta, tb, M: s.M, N: s.N, K: s.K, a, lda: lda, b, ldb: ldb, c.baseAddress!, ldc: s.N, accumulate: false) }
                }
                if round > 0 { t2.append(x); ts.append(y); t1.append(z) }
            }
        } }
        let diff = zip(c2, cs).map { abs($0 - $1) }.max() ?? 0
        return Split(oneCallTwoThreads: median(t2.map(\.wall)), twoCallsOneThreadEach: median(ts.map(\.wall)),
                     oneThread: median(t1.map(\.wall)), oneCallTwoThreadsCPU: median(t2.map(\.cpu)),
                     twoCallsOneThreadEachCPU: median(ts.map(\.cpu)), oneThreadCPU: median(t1.map(\.cpu)), maxDifference: diff, flops: 2 * Double(s.M) * Double(s.N) * Double(s.K))
    }
}
