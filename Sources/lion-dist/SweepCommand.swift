import ArgumentParser
import Collectives
import Foundation
import LionEngine
import RunSetup
import Training

/// `lion-dist sweep`: the large-batch study as one command. Every (batch, optimizer, lr, wd)
/// combination is a full training run inside the current MPI job; results go to DIR.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every batch x optimizer x lr x wd combination as a full training run; write DIR/results.jsonl and .csv.",
        discussion: """
        Each cell is a fresh model trained from the same seed on the same data, inside this MPI job \
        (no new processes). Cells already in DIR/results.jsonl are skipped, so a restarted sweep \
        resumes where it stopped. Then: lion-dist report DIR -o report.html
        Default grids (Lion's lr grid 3x below AdamW's, its wd grid 10x above; lrs hold at --base-batch):
          mlp lion  lr \(Grid.lion.lrs)  wd \(Grid.lion.wds)
          mlp adamw lr \(Grid.adamw.lrs)  wd \(Grid.adamw.wds)
          gpt lion  lr \(Grid.gptLion.lrs)  wd \(Grid.gptLion.wds)
          gpt adamw lr \(Grid.gptAdamw.lrs)  wd \(Grid.gptAdamw.wds)
        With --model gpt every run uses the GPT flags below, the paper's language-model betas, \
        cosine to lr/10 and clip 1.0, and the report compares validation loss instead of accuracy.
        """)

    @Option(help: "mlp (Fashion-MNIST) or gpt (Shakespeare).")
    var model: ModelKind = .mlp

    @OptionGroup(title: "GPT (--model gpt)")
    var gpt: GPTOptions

    @Option(help: "Global batch sizes, comma-separated (each a multiple of the rank count; default mlp 64,256,1024,4096,16384, gpt 12).")
    var batchSizes: String?

    @Option(help: "Optimizers, comma-separated: lion, adamw.")
    var optimizers: String = "lion,adamw"

    @Option(parsing: .unconditional, help: "Learning rates for every optimizer (default: a grid per optimizer, see above).")
    var lrs: String?

    @Option(parsing: .unconditional, help: "Weight decays for every optimizer (default: a grid per optimizer).")
    var wds: String?

    @Option(parsing: .unconditional, help: "Lion's learning rates (overrides --lrs for lion).")
    var lionLrs: String?
    @Option(parsing: .unconditional, help: "Lion's weight decays (overrides --wds for lion).")
    var lionWds: String?
    @Option(parsing: .unconditional, help: "AdamW's learning rates (overrides --lrs for adamw).")
    var adamwLrs: String?
    @Option(parsing: .unconditional, help: "AdamW's weight decays (overrides --wds for adamw).")
    var adamwWds: String?

    @Option(parsing: .unconditional, help: "Passes over the training set in every run.")
    var epochs: Int = 5

    @Option(parsing: .unconditional, help: "Hidden layer widths, comma-separated.")
    var hidden: String = "256,128"

    @Option(help: "Learning-rate schedule: constant, cosine or rsqrt.")
    var schedule: ScheduleKind = .cosine

    @Option(parsing: .unconditional, help: "Linear warm-up steps for every run (default: 5% of each run's steps, at least 1).")
    var warmupSteps: Int?

    @Option(parsing: .unconditional, help: "Floor of the learning rate schedule (default: mlp 0, gpt lr/10 of each run).")
    var minLr: Float?

    @OptionGroup(title: "Batch scaling")
    var scaling: LRScalingOptions

    @Option(parsing: .unconditional, help: "Seed for initialization and shuffling (the same for every run).")
    var seed: UInt64 = 42

    @Option(help: "Directory holding the Fashion-MNIST .gz files (mlp) or shakespeare.txt (gpt); default: where launch/setup puts them.")
    var dataDir: String?

    @Option(parsing: .unconditional, help: "Threads per rank (default: this rank's share of its affinity mask).")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Stop every run after this many steps (quick looks and tests).")
    var maxSteps: Int?

    @Option(parsing: .unconditional, help: "Seconds between progress lines within a run.")
    var logInterval: Double = 30

    @Option(help: "Directory for results.jsonl and results.csv (created if missing).")
    var out: String

    enum Grid {
        static let lion = (lrs: "1e-4,3e-4,1e-3,3e-3,1e-2", wds: "0.1,1,10")
        static let adamw = (lrs: "3e-4,1e-3,3e-3,1e-2,3e-2", wds: "0.01,0.1,1")
        static let gptLion = (lrs: "1e-4,2e-4,3e-4", wds: "0.3,1")
        static let gptAdamw = (lrs: "1e-3", wds: "0.1")
    }

    var batchSizeList: String { batchSizes ?? (model == .mlp ? "64,256,1024,4096,16384" : "12") }

    func validate() throws {
        let batches = try ints(batchSizeList, "--batch-sizes")
        if batches.isEmpty { throw ValidationError("--batch-sizes needs at least one size, e.g. 256,1024") }
        _ = try kinds()
        for (name, text) in [("--lrs", lrs), ("--wds", wds), ("--lion-lrs", lionLrs), ("--lion-wds", lionWds),
                             ("--adamw-lrs", adamwLrs), ("--adamw-wds", adamwWds)] {
            if let text { _ = try floats(text, name) }
        }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if (try? TrainCommand.parseWidths(hidden)) == nil {
            throw ValidationError("--hidden must be positive widths separated by commas (e.g. 256,128), got '\(hidden)'")
        }
        if let warmupSteps, warmupSteps < 0 { throw ValidationError("--warmup-steps must be >= 0, got \(warmupSteps)") }
        if let minLr, !(minLr >= 0) { throw ValidationError("--min-lr must be >= 0, got \(minLr)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if !(logInterval > 0) { throw ValidationError("--log-interval must be > 0 seconds, got \(logInterval)") }
        for c in try cells() {
            do { try c.optimizer.validate() } catch let e as OptimizerConfigError { throw e.validationError }
            if c.minLR > c.optimizer.lr {
                throw ValidationError("--min-lr \(c.minLR) is above \(c.optimizer.kind.rawValue) lr \(c.optimizer.lr); use a floor below every lr")
            }
        }
    }

    func kinds() throws -> [OptimizerKind] {
        let kinds = items(optimizers) { OptimizerKind(rawValue: $0) }
        guard kinds.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--optimizers must be lion and/or adamw separated by commas, got '\(optimizers)'")
        }
        return try Self.once(kinds.map { $0! }, "--optimizers")
    }

    func grid(_ kind: OptimizerKind) throws -> (lrs: [Float], wds: [Float]) {
        let defaults = switch (model, kind) {
        case (.mlp, .lion): Grid.lion
        case (.mlp, .adamw): Grid.adamw
        case (.gpt, .lion): Grid.gptLion
        case (.gpt, .adamw): Grid.gptAdamw
        }
        let lrText = (kind == .lion ? lionLrs : adamwLrs) ?? lrs ?? defaults.lrs
        let wdText = (kind == .lion ? lionWds : adamwWds) ?? wds ?? defaults.wds
        let prefix = kind == .lion ? "--lion-" : "--adamw-"
        let lrFlag = (kind == .lion ? lionLrs : adamwLrs) == nil ? "--lrs" : prefix + "lrs"
        let wdFlag = (kind == .lion ? lionWds : adamwWds) == nil ? "--wds" : prefix + "wds"
        return (try floats(lrText, lrFlag), try floats(wdText, wdFlag))
    }

    /// Every cell, batch-major: all of one batch size, then the next.
    func cells() throws -> [RunConfig] {
        var out: [RunConfig] = []
        for batch in try ints(batchSizeList, "--batch-sizes") {
            for kind in try kinds() {
                let (lrGrid, wdGrid) = try grid(kind)
                for lr in lrGrid {
                    for wd in wdGrid {
                        var c = RunConfig(dataDirectory: dataDir ?? TunedDefaults.dataDirectory(model))
                        c.model = model
                        c.hidden = try TrainCommand.parseWidths(hidden)
                        c.epochs = epochs
                        c.gpt = gpt.shape
                        c.computeDType = gpt.computeDtype == .bf16 ? .bf16 : .fp32   // auto: settled by Sweep.run
                        c.steps = gpt.steps
                        c.evalInterval = gpt.evalInterval
                        c.evalBatches = gpt.evalBatches
                        c.globalBatch = batch
                        c.optimizer = TunedDefaults.optimizer(kind, model: model)
                        c.optimizer.lr = lr
                        c.optimizer.weightDecay = wd
                        c.schedule = schedule
                        c.warmupSteps = warmupSteps ?? 0
                        c.minLR = minLr ?? lr * TunedDefaults.minLRFraction(model)
                        c.clipNorm = TunedDefaults.clipNorm(model)
                        c.seed = seed
                        c.threads = threads
                        c.maxSteps = maxSteps
                        c.logInterval = logInterval
                        try c.train.applyBatch(batchPerRank: nil, worldSize: 1, scaling: scaling.lrScaling, baseBatch: scaling.baseBatch)
                        TestEnvironment.apply(to: &c.train)
                        out.append(c)
                    }
                }
            }
        }
        return out
    }

    func run() throws {
        // The command as a user would type it: lion-dist, not the binary's path.
        let command = (["lion-dist"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let cells = try cells()
        try withMPI { comm in
            let sweep = Sweep(cells: cells, outDirectory: out, command: command, warmupFraction: warmupSteps == nil ? 0.05 : nil,
                              computeDType: model == .gpt ? gpt.computeDtype : .fp32)
            try sweep.run(topology: try Topology(world: comm, nodeKey: TestEnvironment.nodeKey))
        }
    }

    /// A comma-separated list; an empty item ("64,,128") reads as nil, so it is refused.
    func items<T>(_ text: String, _ parse: (String) -> T?) -> [T?] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { parse($0.trimmingCharacters(in: .whitespaces)) }
    }

    func ints(_ text: String, _ name: String) throws -> [Int] {
        let values = items(text) { Int($0) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("\(name) must be positive integers separated by commas, got '\(text)'")
        }
        return try Self.once(values.map { $0! }, name)
    }

    func floats(_ text: String, _ name: String) throws -> [Float] {
        let flag = name.hasPrefix("--") ? name : "--" + name
        let values = items(text) { Float($0) }
        guard values.allSatisfy({ ($0 ?? -1) >= 0 && $0!.isFinite }) else {
            throw ValidationError("\(flag) must be non-negative numbers separated by commas, got '\(text)'")
        }
        return try Self.once(values.map { $0! }, flag)
    }

    /// Refuses a list that names a value twice: it would run the same cells twice.
    static func once<T: Hashable>(_ values: [T], _ flag: String) throws -> [T] {
        var seen = Set<T>()
        if let twice = values.first(where: { !seen.insert($0).inserted }) {
            throw ValidationError("\(flag) lists \(twice) twice (each value is one set of runs); list it once")
        }
        return values
    }
}
