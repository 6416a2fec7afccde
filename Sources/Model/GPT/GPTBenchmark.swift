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
/// Every timed step also records each layer kind's forward and backward time (`GPTTimer`).
/// Threads: whatever the caller set (`ComputeThreads.set`).
public struct GPTBenchmark: Sendable {
    public struct Result: Sendable, Equatable {
        /// Tokens per step: batch x blockSize.
        public var tokensPerStep: Int
        /// Median, minimum and mean seconds per timed step.
        public var medianSeconds: Double
        public var minSeconds: Double
        public var meanSeconds: Double
        /// Mean seconds per timed step of each layer kind (indexed by `GPTTimer.Layer.rawValue`,
        /// summed over blocks), forward and backward; they add up to at most `meanSeconds`.
        public var forwardSeconds: [Double]
        public var backwardSeconds: [Double]
        /// Mean seconds per timed step of the caller's optimizer step (0 without one).
        public var optimizerSeconds: Double
        /// oneDNN's kernel for the bf16 products (nil in fp32).
        public var implementation: String?
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
    public var dtype: ComputeDType

    public init(model: GPT, batch: Int, steps: Int, warmup: Int = 3, seed: UInt64 = 42, dtype: ComputeDType = .fp32) {
        precondition(batch >= 1 && steps >= 1 && warmup >= 0, "batch and steps must be >= 1, warmup >= 0")
        self.model = model
        self.dtype = dtype
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
        let ws = GPTWorkspace(model: model, maxBatch: batch, dtype: dtype)
        let timer = GPTTimer()
        ws.timer = timer
        var rng = SplitMix64(seed: seed ^ 0x5EED)
        let rowLength = model.config.blockSize + 1
        let tokens = (0..<(batch * rowLength)).map { _ in UInt16(rng.next(below: model.config.vocabSize)) }
        var times: [Double] = []
        var cpuTimes: [Double] = []
        var optimizerSeconds = 0.0
        let clock = ContinuousClock()
        tokens.withUnsafeBufferPointer { tok in
            for s in 0..<(warmup + steps) {
                if s == warmup { timer.reset() }
                let start = clock.now
                let cpuStart = Self.processCPUSeconds()
                _ = model.forwardBackward(params: params.pointer, grads: grads.pointer, tokens: tok.baseAddress!,
                                          batch: batch, workspace: ws) { _ in }
                let optimizerStart = clock.now
                optimizerStep?(params.pointer, grads.pointer)
                let now = clock.now
                let d = (now - start).components
                if s >= warmup {
                    let o = (now - optimizerStart).components
                    optimizerSeconds += Double(o.seconds) + Double(o.attoseconds) * 1e-18
                    times.append(Double(d.seconds) + Double(d.attoseconds) * 1e-18)
                    cpuTimes.append(Self.processCPUSeconds() - cpuStart)
                }
            }
        }
        let median = Self.median(times)
        let tokensPerStep = batch * model.config.blockSize
        let tps = Double(tokensPerStep) / median
        let perStep = { (pass: GPTTimer.Pass) in GPTTimer.Layer.allCases.map { timer.seconds($0, pass) / Double(steps) } }
        return Result(tokensPerStep: tokensPerStep, medianSeconds: median, minSeconds: times.min()!,
                      meanSeconds: times.reduce(0, +) / Double(steps),
                      forwardSeconds: perStep(.forward), backwardSeconds: perStep(.backward),
                      optimizerSeconds: optimizerSeconds / Double(steps), implementation: ws.bf16Implementation,
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
