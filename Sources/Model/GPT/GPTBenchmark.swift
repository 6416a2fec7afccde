#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeterministicRandom

/// Training throughput of a GPT on this machine: times forward + backward (and, when given,
/// the caller's optimizer step) over random tokens, for `lion-dist bench gpt` and the
/// comparison with PyTorch (scripts/bench-torch-gpt.py measures the same thing there).
///
/// Threads: whatever the caller set (`ComputeThreads.set`).
public struct GPTBenchmark: Sendable {
    public struct Result: Sendable, Equatable {
        /// Tokens per step: batch x blockSize.
        public var tokensPerStep: Int
        /// Median and minimum seconds per timed step.
        public var medianSeconds: Double
        public var minSeconds: Double
        /// Median process CPU seconds per timed step (all threads): on a busy machine, with one
        /// thread, a steadier figure than wall time.
        public var medianCPUSeconds: Double
        /// tokensPerStep / medianSeconds.
        public var tokensPerSecond: Double
        /// Model FLOPs per second at the median: tokensPerSecond x GPT.flopsPerToken.
        public var flopsPerSecond: Double
        public var steps: Int
    }

    public var model: GPT
    public var batch: Int
    public var steps: Int
    public var warmup: Int
    public var seed: UInt64

    public init(model: GPT, batch: Int, steps: Int, warmup: Int = 3, seed: UInt64 = 42) {
        precondition(batch >= 1 && steps >= 1 && warmup >= 0, "batch and steps must be >= 1, warmup >= 0")
        self.model = model
        self.batch = batch
        self.steps = steps
        self.warmup = warmup
        self.seed = seed
    }

    /// Runs `warmup` untimed and `steps` timed steps. `optimizerStep(params, grads)`, when given,
    /// runs inside each timed step after the backward (e.g. an AdamW update).
    public func run(optimizerStep: ((UnsafeMutablePointer<Float>, UnsafePointer<Float>) -> Void)? = nil) -> Result {
        let params = FlatBuffer(count: model.parameterCount)
        let grads = FlatBuffer(count: model.parameterCount)
        model.initialize(params.pointer, seed: seed)
        let ws = GPTWorkspace(model: model, maxBatch: batch)
        var rng = SplitMix64(seed: seed ^ 0x5EED)
        let rowLength = model.config.blockSize + 1
        let tokens = (0..<(batch * rowLength)).map { _ in UInt16(rng.next(below: model.config.vocabSize)) }
        var times: [Double] = []
        var cpuTimes: [Double] = []
        let clock = ContinuousClock()
        tokens.withUnsafeBufferPointer { tok in
            for s in 0..<(warmup + steps) {
                let start = clock.now
                let cpuStart = Self.processCPUSeconds()
                _ = model.forwardBackward(params: params.pointer, grads: grads.pointer, tokens: tok.baseAddress!,
                                          batch: batch, workspace: ws) { _ in }
                optimizerStep?(params.pointer, grads.pointer)
                let d = (clock.now - start).components
                if s >= warmup {
                    times.append(Double(d.seconds) + Double(d.attoseconds) * 1e-18)
                    cpuTimes.append(Self.processCPUSeconds() - cpuStart)
                }
            }
        }
        let median = Self.median(times)
        let tokensPerStep = batch * model.config.blockSize
        let tps = Double(tokensPerStep) / median
        return Result(tokensPerStep: tokensPerStep, medianSeconds: median, minSeconds: times.min()!,
                      medianCPUSeconds: Self.median(cpuTimes), tokensPerSecond: tps, flopsPerSecond: tps * model.flopsPerToken, steps: steps)
    }

    static func median(_ values: [Double]) -> Double {
        let v = values.sorted()
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
