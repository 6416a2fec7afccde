import Basics
import Collectives
import FashionData
import Foundation
import MemoryPlanning
import Model
import Report
import RunSchema
import TextData
import Training
import Workloads

/// `lion-dist sweep`: many full training runs inside one MPI job. The data is loaded once;
/// each cell is a fresh `Trainer` on it. Rank 0 appends one JSON line per finished run to
/// `DIR/results.jsonl` and rewrites `DIR/results.csv`; cells whose key is already in the
/// JSONL are skipped, so a restarted sweep loses at most the run it was in.
public struct Sweep {
    public var cells: [RunConfig]
    public var outDirectory: String
    /// Recorded in every row (the command that reproduces the study).
    public var command: String
    /// Warm-up as a fraction of each cell's steps; nil keeps each config's `warmupSteps`.
    public var warmupFraction: Double?
    /// `--compute-dtype` of a GPT sweep: with `auto`, `run` settles the cells' dtype once for all
    /// of them (`settleComputeDType`); otherwise the cells carry it already.
    public var computeDType: ComputeDTypeChoice

    public init(cells: [RunConfig], outDirectory: String, command: String, warmupFraction: Double?,
                computeDType: ComputeDTypeChoice = .fp32) {
        self.cells = cells
        self.outDirectory = outDirectory
        self.command = command
        self.warmupFraction = warmupFraction
        self.computeDType = computeDType
    }

    var resultsPath: String { outDirectory + "/results.jsonl" }
    var csvPath: String { outDirectory + "/results.csv" }

    /// The identity of a cell: what changes its result. A restarted sweep skips cells with a row
    /// of the same key.
    public static func key(_ c: RunConfig, worldSize: Int) -> String {
        let shape = c.model == .mlp ? ["epochs=\(c.epochs)", "hidden=\(hiddenText(c))"]
            : ["model=gpt", "gpt=\(gptText(c))", "steps=\(c.steps)", "clip=\(c.clipNorm)"]
        var parts = ["\(c.optimizer.kind.rawValue)", "batch=\(c.globalBatch)", "lr=\(c.optimizer.lr)",
                     "wd=\(c.optimizer.weightDecay)"] + shape + [
                     "schedule=\(c.schedule.rawValue)", "warmup=\(c.warmupSteps)", "min_lr=\(c.minLR)",
                     "seed=\(c.seed)", "ranks=\(worldSize)", "state=\(c.optimizer.stateDType.rawValue)"]
        if let m = c.maxSteps { parts.append("max_steps=\(m)") }
        if c.model == .gpt && c.computeDType != .fp32 { parts.append("dtype=\(c.computeDType.rawValue)") }
        return parts.joined(separator: " ")
    }

    static func hiddenText(_ c: RunConfig) -> String { c.hidden.map(String.init).joined(separator: ",") }
    /// "4x4x128x64": layers x heads x width x context.
    static func gptText(_ c: RunConfig) -> String { "\(c.gpt.nLayer)x\(c.gpt.nHead)x\(c.gpt.nEmbd)x\(c.gpt.blockSize)" }

    /// Every global batch must split over the ranks and fit the data; checked for all cells
    /// before any run starts. The error names the offending size.
    public static func checkBatches(_ batches: [Int], worldSize: Int, datasetSize: Int) throws {
        for b in batches { try TrainConfig.checkBatch(b, worldSize: worldSize, datasetSize: datasetSize, flag: "--batch-sizes:") }
    }

    /// Runs every cell not yet done. Collective: every rank calls it with the same sweep.
    /// The node is split once for the whole sweep (`topology`).
    public func run(topology: Topology) throws {
        let comm = topology.world
        let isRoot = comm.rank == 0
        let model = cells.first?.model ?? .mlp
        precondition(cells.allSatisfy { $0.model == model }, "one model per sweep")
        try comm.agree {
            try Sweep.checkBatches(Array(Set(cells.map(\.globalBatch))).sorted(), worldSize: comm.size,
                                   datasetSize: model == .mlp ? FashionMNIST.trainCount : Int.max)
            for c in cells { try c.checkSizes(worldSize: comm.size, ranksPerNode: comm.size) }
        }
        let directory = cells.first?.dataDirectory ?? TunedDefaults.dataDirectory(model)
        // The data is loaded once; each cell builds a fresh workload on it.
        let makeWorkload: (RunConfig) throws -> Workload
        switch model {
        case .mlp:
            let data = try comm.agree { try FashionMNIST.load(directory: directory) }
            makeWorkload = { try WorkloadFactory.mlp(config: $0, data: data, comm: comm) }
        case .gpt:
            let corpus = try comm.agree { try ShakespeareCorpus.load(directory: directory) }
            makeWorkload = { try WorkloadFactory.gpt(config: $0, corpus: corpus, comm: comm, node: topology.node) }
        }
        // Rank 0 reads what is done; every rank gets the same dtype and mask.
        var records: [SweepRecord] = []
        try comm.agree {
            guard isRoot else { return }
            try prepareDirectory()
            records = try ResultsFile.load(path: resultsPath)
        }
        let done = Set(records.map(\.cell))
        let planned = try settleComputeDType(cells.map(withWarmup), done: done, comm: comm)
        var doneMask: [UInt8] = planned.map { done.contains(Sweep.key($0, worldSize: comm.size)) ? 1 : 0 }
        try comm.broadcastBytes(&doneMask, root: 0)
        let todo = planned.indices.filter { doneMask[$0] == 0 }
        if isRoot {
            print("sweep: \(planned.count) cells, \(planned.count - todo.count) already in \(resultsPath), \(todo.count) to run")
        }

        let start = Date()
        for (n, i) in todo.enumerated() {
            let config = planned[i]
            let key = Sweep.key(config, worldSize: comm.size)
            if isRoot { print("\nsweep: cell \(n + 1)/\(todo.count): \(key)") }
            MemoryReport.resetPeakRSS()
            let workload = try makeWorkload(config)
            let summary = try Trainer(config: config.train, topology: topology, workload: workload).run()
            try comm.agree {
                guard isRoot else { return }
                let line = row(config: config, key: key, summary: summary).text
                try append(line)
                if let record = SweepRecord.parse(line: Substring(line)) { records.append(record) }
                try writeFile(csvPath, SweepCSV.text(records))
            }
            if isRoot {
                let elapsed = Date().timeIntervalSince(start)
                let eta = elapsed / Double(n + 1) * Double(todo.count - n - 1)
                print(String(format: "sweep: cell %d/%d done: %@ (%@ elapsed, ETA %@)", n + 1, todo.count,
                             workload.summaryText(summary.evaluation), Format.duration(elapsed), Format.duration(eta)))
            }
        }
        if isRoot { print("sweep: done; \(records.count) runs in \(resultsPath) and \(csvPath)") }
    }

    /// The cells with the dtype `--compute-dtype auto` runs, the same for every cell and rank
    /// (collective). A restarted sweep keeps the dtype its finished cells ran (`done`: rank 0's
    /// keys), so a study is not split between dtypes by a measurement that came out differently
    /// and nothing finished runs again; a fresh one measures (`ComputeDTypeChoice.resolve`), as
    /// does one whose bf16 cells ran on a CPU with native bf16 when this one has none.
    /// Rank 0 says which and why in one line.
    func settleComputeDType(_ cells: [RunConfig], done: Set<String>, comm: Communicator) throws -> [RunConfig] {
        guard computeDType == .auto else { return cells }
        let runs = { (dtype: ComputeDType) in
            cells.filter { done.contains(Sweep.key(Sweep.with(dtype, $0), worldSize: comm.size)) }.count
        }
        let (bf16, fp32) = (runs(.bf16), runs(.fp32))
        // 0: measure (nothing finished, or bf16 finished on a CPU where it is native but not here).
        var kept: [UInt8] = [bf16 + fp32 == 0 ? 0 : bf16 < fp32 ? 1 : BF16Support.refusalReason() == nil ? 2 : 0]
        try comm.broadcastBytes(&kept, root: 0)
        let resolution: ComputeDTypeChoice.Resolution
        if kept[0] == 0 {
            resolution = try computeDType.resolve(world: comm)
        } else {
            let dtype: ComputeDType = kept[0] == 2 ? .bf16 : .fp32, other: ComputeDType = dtype == .bf16 ? .fp32 : .bf16
            resolution = .init(dtype: dtype, note: "compute dtype: \(dtype.rawValue) (auto: as the \(max(bf16, fp32)) cell(s) "
                               + "already in \(resultsPath) ran; --compute-dtype \(other.rawValue) to run \(other.rawValue))")
        }
        if comm.rank == 0, let note = resolution.note { print(note) }
        return cells.map { Sweep.with(resolution.dtype, $0) }
    }

    /// The cell with its products in `dtype`.
    static func with(_ dtype: ComputeDType, _ c: RunConfig) -> RunConfig {
        var c = c
        c.computeDType = dtype
        return c
    }

    /// The cell with its warm-up set from `warmupFraction` (at least one step).
    func withWarmup(_ c: RunConfig) -> RunConfig {
        guard let warmupFraction else { return c }
        var c = c
        let steps = c.model == .mlp ? FashionMNIST.trainCount / c.globalBatch * c.epochs : c.steps
        let total = Trainer.totalSteps(workloadSteps: steps, config: c.train)
        c.warmupSteps = max(1, Int((Double(total) * warmupFraction).rounded()))
        return c
    }

    /// One JSON line: the cell's configuration, then the run's summary (same keys as `--metrics`).
    func row(config c: RunConfig, key: String, summary: RunSummary) -> JSON {
        typealias C = Summary.Cell
        let head: [(String, JSON)] = [
            C.cell(key), Summary.optimizer(c.optimizer.kind.rawValue), Summary.globalBatch(c.globalBatch),
            Summary.worldSize(summary.worldSize), C.lr(Sweep.decimal(c.optimizer.lr)),
            C.weightDecay(Sweep.decimal(c.optimizer.weightDecay)), C.epochs(c.epochs), C.hidden(Sweep.hiddenText(c)),
            C.schedule(c.schedule.rawValue), C.warmupSteps(c.warmupSteps), C.minLR(Sweep.decimal(c.minLR)),
            C.beta1(Sweep.decimal(c.optimizer.beta1)), C.beta2(Sweep.decimal(c.optimizer.beta2)), C.seed(Int(c.seed)),
            C.cpus(ProcessInfo.processInfo.activeProcessorCount), C.command(command),
        ] + (c.model == .mlp ? [] : [C.gpt(Sweep.gptText(c)), C.gptSteps(c.steps), C.clipNorm(Sweep.decimal(c.clipNorm))])
        let taken = Set(head.map(\.0))
        return .object(head + summary.json.filter { !taken.contains($0.0) })
    }

    /// A Float as the short decimal it was typed as (3e-4, not 0.000300000014).
    static func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }

    func prepareDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("--out \(outDirectory): cannot create the directory (\(error.localizedDescription)); choose a writable path")
        }
        if !FileManager.default.fileExists(atPath: resultsPath) {
            guard FileManager.default.createFile(atPath: resultsPath, contents: nil) else {
                throw TrainingError("--out \(outDirectory): cannot create results.jsonl there; choose a writable directory")
            }
        }
    }

    func append(_ line: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: resultsPath) else {
            throw TrainingError("\(resultsPath): cannot open for appending; check that it is writable")
        }
        defer { try? handle.close() }
        // A row cut short by a kill has no newline: start a fresh line, do not glue onto it.
        let end = handle.seekToEndOfFile()
        var cutShort = false
        if end > 0 {
            handle.seek(toFileOffset: end - 1)
            cutShort = handle.readDataToEndOfFile() != Data("\n".utf8)
        }
        handle.write(Data(((cutShort ? "\n" : "") + line + "\n").utf8))
    }

    func writeFile(_ path: String, _ text: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw TrainingError("\(path): cannot write (\(error.localizedDescription)); check that it is writable")
        }
    }
}
