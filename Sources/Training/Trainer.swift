import Collectives
import FashionData
import Foundation
import LionEngine
import Model
import Sharding

/// Data-parallel training of an MLP on Fashion-MNIST. Every rank runs the same loop on its
/// slice of each global batch; `step(...)` below is the whole data flow of one step.
public final class Trainer {
    let config: TrainConfig
    let comm: Communicator
    let threads: Int
    let hosts: Int
    let data: FashionMNIST
    let model: MLP
    let layout: ShardLayout
    let sharded: ShardedOptimizer
    let sampler: DistributedSampler
    let schedule: LRSchedule
    let workspace: MLPWorkspace
    let batchX: FlatBuffer
    var batchLabels: [UInt8]
    let log: MetricsLog
    var isRoot: Bool { comm.rank == 0 }

    /// Sets up a run: checks the batch against the world size, loads the data (every rank
    /// agrees on failure), then `init(config:comm:data:)`. Collective: every rank calls it.
    public convenience init(config: TrainConfig, comm: Communicator) throws {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: 60_000) }
        let data = try comm.agree { try FashionMNIST.load(directory: config.dataDirectory) }
        try self.init(config: config, comm: comm, data: data)
    }

    /// Sets up a run on data already loaded (a sweep loads it once for many runs): checks the
    /// batch against the world size, sizes threads from the affinity mask, initializes the
    /// model identically on every rank. Collective: every rank calls it.
    public init(config: TrainConfig, comm: Communicator, data: FashionMNIST) throws {
        self.config = config
        self.comm = comm
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: data.train.count) }

        let node = try comm.splitByNode()
        let nodeLeaders = try comm.allreduceSum(node.rank == 0 ? 1 : 0)
        hosts = Int(nodeLeaders)
        let budget = try comm.agree { try ThreadBudget.resolve(requested: config.threads, node: node) }
        threads = budget.threads
        if comm.rank == 0, let note = budget.note { print(note) }
        if comm.rank == 0, let warning = budget.warning { fputs(warning + "\n", stderr) }
        BLASThreads.set(threads)
        let pool = ThreadPool(threads: threads)

        self.data = data
        model = MLP(inputs: data.train.rows * data.train.cols, hidden: config.hidden, classes: 10)
        layout = ShardLayout(count: model.parameterCount, worldSize: comm.size)
        let buckets = BucketPlan(layers: model.layers.map { $0.weightOffset..<($0.biasOffset + $0.outputs) },
                                 paddedCount: layout.paddedCount, bucketElements: max(1, Int(config.bucketMB * 262_144)))
        let shards = layout
        let combiner = try comm.agree { try config.comm.makeCombiner(layout: shards, world: comm, node: node, buckets: buckets,
                                                                     overlap: config.overlap) }
        sharded = ShardedOptimizer(layout: layout, config: config.optimizer, clipNorm: config.clipNorm,
                                   comm: comm, pool: pool, combiner: combiner)
        model.initialize(sharded.combiner.params, seed: config.seed)
        sampler = DistributedSampler(datasetSize: data.train.count, globalBatch: config.globalBatch,
                                     rank: comm.rank, worldSize: comm.size, seed: config.seed)
        let total = Trainer.totalSteps(stepsPerEpoch: sampler.stepsPerEpoch, config: config)
        schedule = LRSchedule(kind: config.schedule, baseLR: config.optimizer.lr,
                              warmupSteps: min(config.warmupSteps, total / 2), totalSteps: total, minLR: config.minLR)
        let evalShare = (data.test.count + comm.size - 1) / comm.size
        workspace = MLPWorkspace(model: model, maxBatch: max(sampler.localBatch, min(evalShare, 1000)))
        batchX = FlatBuffer(count: sampler.localBatch * model.inputs)
        batchLabels = [UInt8](repeating: 0, count: sampler.localBatch)
        let metricsPath = comm.rank == 0 ? config.metricsPath : nil
        let resuming = config.checkpoint.resume || config.checkpoint.resumeFrom != nil
        log = try comm.agree { try MetricsLog(path: metricsPath, append: resuming) }
    }

    /// The flat parameter and gradient buffers (`layout.paddedCount` floats), owned by the
    /// combiner: with `--comm reduce-scatter` they live in node-shared memory.
    var params: UnsafeMutablePointer<Float> { sharded.combiner.params }
    var grads: UnsafeMutablePointer<Float> { sharded.combiner.grads }

    var totalSteps: Int { Trainer.totalSteps(stepsPerEpoch: sampler.stepsPerEpoch, config: config) }

    static func totalSteps(stepsPerEpoch: Int, config: TrainConfig) -> Int {
        let full = stepsPerEpoch * config.epochs
        return config.maxSteps.map { min($0, full) } ?? full
    }

    /// One training step: forward/backward on this rank's slice, then the sharded optimizer
    /// (combine -> update own shard -> gather). Returns the global mean loss and accuracy of the batch.
    func step(indices: ArraySlice<Int32>, globalStep: Int, stats: inout RunStats) throws -> (loss: Double, accuracy: Double) {
        let clock = MPIRuntime.time()
        // Gather this rank's samples into one contiguous batch: x is (B/W, 784).
        let width = model.inputs
        data.train.pixels.withUnsafeBufferPointer { pixels in
            for (row, index) in indices.enumerated() {
                (batchX.pointer + row * width).update(from: pixels.baseAddress! + Int(index) * width, count: width)
                batchLabels[row] = data.train.labels[Int(index)]
            }
        }
        // Forward/backward: grads = mean gradient over the local slice. With overlap, each
        // bucket's reduction starts as backward finishes its last layer.
        let combiner = sharded.combiner, overlap = config.overlap
        let (lossSum, correct) = try batchLabels.withUnsafeBufferPointer { labels in
            try model.forwardBackward(params: params, grads: grads, x: batchX.pointer,
                                      labels: labels.baseAddress!, batch: indices.count, workspace: workspace) { l, _ in
                if overlap, let b = combiner.buckets.closesBucket[l] { try combiner.bucketReady(b) }
            }
        }
        stats.compute += MPIRuntime.time() - clock
        FaultInjection.poisonGradient(grads, step: globalStep, rank: comm.rank)
        // Combine, update, gather; the batch's loss and correct count ride on the norm's allreduce.
        var riders = [lossSum, Double(correct)]
        let outcome = try sharded.step(params: params, grads: grads,
                                       lr: schedule.lr(atStep: globalStep), riders: &riders)
        stats.timings += outcome.timings
        if outcome.applied {
            stats.consecutiveSkips = 0
        } else {
            stats.skipped += 1
            stats.consecutiveSkips += 1
            if isRoot { print("step \(globalStep + 1): non-finite gradient (norm \(outcome.gradNorm)); skipped on every rank") }
            // Every rank sees the same global norm, so every rank stops here together.
            if stats.consecutiveSkips >= RunStats.maxConsecutiveSkips {
                throw CollectiveFailure(failingRank: 0, message: "training diverged: \(stats.consecutiveSkips) consecutive steps had NaN/Inf gradients (last at step \(globalStep + 1)); lower --lr or set --clip-norm")
            }
        }
        return (riders[0] / Double(config.globalBatch), riders[1] / Double(config.globalBatch))
    }

    /// Test loss and accuracy: each rank evaluates its slice of the test set, one allreduce sums.
    func evaluate() throws -> (loss: Double, accuracy: Double) {
        let n = data.test.count
        let lo = comm.rank * n / comm.size, hi = (comm.rank + 1) * n / comm.size
        let width = model.inputs
        let (lossSum, correct) = data.test.pixels.withUnsafeBufferPointer { pixels in
            data.test.labels.withUnsafeBufferPointer { labels in
                model.evaluate(params: params, x: pixels.baseAddress! + lo * width,
                               labels: labels.baseAddress! + lo, count: hi - lo, workspace: workspace)
            }
        }
        var sums = [lossSum, Double(correct)]
        try comm.allreduceSum(&sums)
        return (sums[0] / Double(n), sums[1] / Double(n))
    }
}

/// Running totals of one run on this rank.
struct RunStats {
    var compute = 0.0
    var timings = StepTimings()
    var skipped = 0
    var consecutiveSkips = 0
    static let maxConsecutiveSkips = 10
}
