import Basics
import ArgumentParser
import LionEngine
import Model
import RunSchema
import RunSetup
import TextData
import Training

/// `lion-dist bench gpt` (one process, no mpirun): the GPT's training step on random tokens,
/// per layer kind forward and backward, tokens/s and MFU against the rate of the compute
/// dtype's products measured at start. Logic: `Model.GPTBenchmark`; this file parses and prints.
struct BenchGPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt",
        abstract: "Time the GPT's training step per layer (forward, backward), its tokens/s and MFU, in one process.")

    @OptionGroup var model: GPTShapeOptions

    @Option(parsing: .unconditional, help: "Sequences per step.")
    var batchSize: Int = 12

    @Option(parsing: .unconditional, help: "Compute threads (default: the cores in this process's affinity mask).")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Timed steps (after 3 warm-up steps).")
    var steps: Int = 20

    @Option(parsing: .unconditional, help: "The optimizer step inside each timed step: adamw or lion (the GPT's tuned settings).")
    var optimizer: OptimizerKind = .adamw

    @Flag(help: "One JSON object per line: one per layer kind (layer, forward_ms, backward_ms), then the step's (layer \"step\"); keys in docs/metrics.md.")
    var json = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1, got \(steps)") }
        if let problem = config.problem { throw ValidationError(problem) }
        let cores = CPUAffinity.coresAvailable()
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be >= 1, got \(threads)") }
            guard threads <= cores else {
                throw ValidationError("--threads \(threads) is more than the \(cores) core(s) this process may use (its CPU affinity); use at most \(cores)")
            }
        }
    }

    var config: GPTConfig { model.shape.config(vocabSize: ShakespeareCorpus.expectedCharacters) }

    func run() throws {
        let threads = self.threads ?? CPUAffinity.coresAvailable()
        let resolved = try model.computeDtype.resolve(world: nil)
        if let note = resolved.note, !json { print(note) }
        let dtype = resolved.dtype
        let gpt = GPT(config: config)
        ComputeThreads.set(threads)
        let rate = MatmulRate.measure(dtype)
        let pool = ComputeThreads.pool(threads: threads)
        let update = LocalOptimizer(config: TunedDefaults.optimizer(optimizer, model: .gpt), count: gpt.parameterCount, pool: pool)
        let lr = update.config.lr
        let r = GPTBenchmark(model: gpt, batch: batchSize, steps: steps, dtype: dtype).run { p, g in
            update.update(params: p, grads: g, lr: lr, gradScale: 1)
        }
        let layers = GPTTimer.Layer.allCases.filter { $0 != .bf16Weights || dtype == .bf16 }
        let ms = { (s: Double) in 1000 * s }
        let mfu = r.flopsPerSecond / rate.flops
        if json {
            for l in layers {
                print("{\"layer\":\"\(l.name)\",\"forward_ms\":\(BenchText.fixed(ms(r.forwardSeconds[l.rawValue]), 4)),"
                      + "\"backward_ms\":\(BenchText.fixed(ms(r.backwardSeconds[l.rawValue]), 4))" + BenchText.cpuField + "}")
            }
            print("{\"layer\":\"step\",\"step_ms\":\(BenchText.fixed(ms(r.meanSeconds), 4)),\"median_step_ms\":\(BenchText.fixed(ms(r.medianSeconds), 4)),\"min_step_ms\":\(BenchText.fixed(ms(r.minSeconds), 4)),"
                  + "\"optimizer_ms\":\(BenchText.fixed(ms(r.optimizerSeconds), 4)),\"tokens_per_s\":\(BenchText.fixed(r.tokensPerSecond, 1)),"
                  + "\"model_gflops\":\(BenchText.fixed(r.flopsPerSecond / 1e9, 3)),\"gemm\":\"\(rate.name)\",\"gemm_gflops\":\(BenchText.fixed(rate.flops / 1e9, 3)),"
                  + "\"mfu\":\(BenchText.fixed(mfu, 4)),\"compute_dtype\":\"\(dtype.rawValue)\",\"threads\":\(threads),\"batch\":\(batchSize),"
                  + "\"n_layer\":\(config.nLayer),\"n_head\":\(config.nHead),\"n_embd\":\(config.nEmbd),\"block_size\":\(config.blockSize),"
                  + "\"vocab_size\":\(config.vocabSize),\"parameters\":\(gpt.parameterCount),\"optimizer\":\"\(optimizer.rawValue)\",\"steps\":\(steps)" + BenchText.cpuField + "}")
            return
        }
        print(BenchText.cpuLine)
        print("model: \(gpt.shapeDescription), \(gpt.parameterCount) parameters; batch \(batchSize), \(threads) thread(s), "
              + "\(dtype.rawValue) products" + (r.implementation.map { " (oneDNN \($0))" } ?? " (OpenBLAS sgemm, \(OpenBLASCore.description))")
              + ", \(optimizer.rawValue); \(steps) timed steps after 3 warm-up, random tokens")
        print("layer (all blocks)    forward ms   backward ms   of step")
        let step = ms(r.meanSeconds)
        func row(_ name: String, _ f: Double?, _ b: Double) {
            print(BenchText.left(name, 20) + BenchText.right(f.map { BenchText.fixed($0, 3) } ?? "", 12) + BenchText.right(BenchText.fixed(b, 3), 14) + BenchText.right(BenchText.fixed(100 * ((f ?? 0) + b) / step, 1) + "%", 10))
        }
        var timed = ms(r.optimizerSeconds)
        for l in layers {
            let (f, b) = (ms(r.forwardSeconds[l.rawValue]), ms(r.backwardSeconds[l.rawValue]))
            timed += f + b
            row(l.name, f, b)
        }
        row("optimizer", nil, ms(r.optimizerSeconds))
        row("untimed", nil, step - timed)
        print("step: mean \(BenchText.fixed(step, 3)) ms, median \(BenchText.fixed(ms(r.medianSeconds), 3)) ms; \(BenchText.fixed(r.tokensPerSecond, 0)) tokens/s; "
              + "model \(BenchText.fixed(r.flopsPerSecond / 1e9, 1)) GFLOP/s = MFU \(BenchText.fixed(100 * mfu, 1))% of \(rate.name) "
              + "\(BenchText.fixed(rate.flops / 1e9, 1)) GFLOP/s (measured at start on \(threads) thread(s))")
    }
}
