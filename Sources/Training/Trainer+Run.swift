import Collectives
import Foundation
import LionEngine
import Sharding

extension Trainer {
    /// Runs every epoch (or `maxSteps`), printing progress and test accuracy on rank 0, and
    /// returns the summary (the same on every rank). Collective.
    public func run() throws -> RunSummary {
        if isRoot { print(banner()) }
        var stats = RunStats()
        let start = try resumePoint(stats: &stats)
        var at = start
        var progress = Progress(totalSteps: totalSteps, globalBatch: config.globalBatch, interval: config.logInterval)
        progress.firstStep = start.step
        var globalStep = start.step
        var test = (loss: Double.nan, accuracy: 0.0)
        var lastTrainLoss = Double.nan
        let started = MPIRuntime.time()
        var trainSeconds = 0.0
        var records: [EpochRecord] = []

        epochs: for epoch in start.epoch..<config.epochs {
            let epochStart = MPIRuntime.time()
            let order = sampler.permutation(epoch: epoch)
            var lossSum = start.lossSum(epoch), steps = start.steps(epoch)
            for s in start.firstStep(epoch)..<sampler.stepsPerEpoch {
                if globalStep >= totalSteps { break }
                let (loss, _) = try step(indices: sampler.localIndices(order, step: s), globalStep: globalStep, stats: &stats)
                globalStep += 1
                steps += 1
                lossSum += loss
                at = LoopPoint(step: globalStep, epoch: epoch, stepInEpoch: s + 1, epochLossSum: lossSum, epochSteps: steps)
                try checkpointAfterStep(at, stats: stats)
                if isRoot, let line = progress.tick(epoch: epoch, epochs: config.epochs, stepInEpoch: s + 1,
                                                    stepsPerEpoch: sampler.stepsPerEpoch, done: globalStep, loss: loss,
                                                    elapsed: trainSeconds + MPIRuntime.time() - epochStart) {
                    print(line.text)
                    log.write("step", [("epoch", .int(epoch + 1)), ("step", .int(globalStep)), ("loss", .number(loss)),
                                       ("samples_per_s", .number(line.samplesPerSecond)),
                                       ("lr", .number(Double(schedule.lr(atStep: globalStep - 1))))])
                }
            }
            trainSeconds += MPIRuntime.time() - epochStart
            lastTrainLoss = steps > 0 ? lossSum / Double(steps) : .nan
            test = try evaluate()
            let seconds = MPIRuntime.time() - epochStart
            records.append(EpochRecord(epoch: epoch + 1, trainLoss: lastTrainLoss, testLoss: test.loss,
                                       testAccuracy: test.accuracy, seconds: seconds))
            if isRoot {
                print(String(format: "epoch %d/%d  train loss %.4f  test loss %.4f  test accuracy %.2f%%  (%@)",
                             epoch + 1, config.epochs, lastTrainLoss, test.loss, test.accuracy * 100, Format.duration(seconds)))
                log.write("epoch", [("epoch", .int(epoch + 1)), ("train_loss", .number(lastTrainLoss)),
                                    ("test_loss", .number(test.loss)), ("test_accuracy", .number(test.accuracy)),
                                    ("seconds", .number(seconds))])
            }
            if globalStep >= totalSteps { break epochs }
        }

        try finalCheckpoint(at, start: start, stats: stats)
        let seconds = MPIRuntime.time() - started
        if stats.skipped > 0 && isRoot {
            print("skipped \(stats.skipped) step(s) with non-finite gradients (parameters left unchanged)")
        }
        let mine = RankMemory(rank: comm.rank, host: Communicator.processorName(), paramBytes: layout.paddedCount * 4,
                              gradBytes: layout.paddedCount * 4, optimizerStateBytes: sharded.stateBytes,
                              peakRSSBytes: MemoryReport.peakRSSBytes())
        let ranks = try MemoryReport.gather(mine, comm: comm)
        let ran = globalStep - start.step
        let n = Double(max(ran, 1))
        let mean = stats.timings.scaled(by: 1 / n)
        let summary = RunSummary(
            worldSize: comm.size, optimizer: config.optimizer.kind.rawValue, stateDType: config.optimizer.stateDType.rawValue,
            params: model.parameterCount, globalBatch: config.globalBatch, steps: globalStep, skippedSteps: stats.skipped,
            testAccuracy: test.accuracy, testLoss: test.loss, finalTrainLoss: lastTrainLoss, seconds: seconds,
            samplesPerSecond: Double(ran * config.globalBatch) / max(trainSeconds, 1e-9),
            compute: stats.compute / n, timings: mean, ranks: ranks,
            threadsPerRank: threads, perEpoch: records)
        if let path = config.saveParamsPath {
            try comm.agree { if isRoot { try saveParams(to: path) } }
        }
        if isRoot {
            print(report(summary))
            log.write("summary", summary.json)
        }
        return summary
    }

    func banner() -> String {
        let o = config.optimizer
        let hyper = o.kind == .lion
            ? "lr \(o.lr) betas \(o.beta1)/\(o.beta2) wd \(o.weightDecay)"
            : "lr \(o.lr) betas \(o.beta1)/\(o.beta2) eps \(o.eps) wd \(o.weightDecay)"
        return """
        lion-dist: \(comm.size) rank(s) on \(hosts) host(s), \(threads) thread(s) per rank
        model: MLP \(model.shapeDescription), \(model.parameterCount) parameters; shard \(layout.shardCount) per rank (\(layout.padding) padding)
        optimizer: \(o.kind.rawValue) (\(hyper)), state \(o.stateDType.rawValue), schedule \(config.schedule.rawValue) (warmup \(schedule.warmupSteps)), clip \(config.clipNorm > 0 ? "\(config.clipNorm)" : "off")
        comm: \(sharded.combiner.description)
        data: global batch \(config.globalBatch) (\(sampler.localBatch) per rank), \(sampler.stepsPerEpoch) steps/epoch, \(config.epochs) epoch(s), \(totalSteps) steps
        """
    }

    func report(_ s: RunSummary) -> String {
        let unsharded = model.parameterCount * o.stateBuffers * o.stateDType.bytesPerElement
        let phases = String(format: "per step: compute %.2f ms, combine %.2f ms, update %.2f ms, gather %.2f ms",
                            s.compute * 1e3, s.timings.combine * 1e3, s.timings.update * 1e3, s.timings.gather * 1e3)
        let perStep = s.worldSize == 1 ? phases + "; no communication (1 rank)"
            : phases + String(format: "; communication %.2f ms total, %.2f ms exposed",
                              s.timings.commTotal * 1e3, s.timings.commExposed * 1e3)
        return """
        done: test accuracy \(String(format: "%.2f%%", s.testAccuracy * 100)) after \(s.steps) steps in \(Format.duration(s.seconds)), \(Format.rate(s.samplesPerSecond)) samples/s
        \(perStep)
        memory per rank (optimizer state unsharded would be \(Format.bytes(unsharded)); each rank holds 1/\(s.worldSize) of it):
        \(MemoryReport.table(s.ranks))
        """
    }

    private var o: OptimizerConfig { config.optimizer }

    /// Rank 0 writes the real (unpadded) parameters as little-endian float32.
    func saveParams(to path: String) throws {
        let data = Data(bytes: params, count: model.parameterCount * MemoryLayout<Float>.size)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw TrainingError("--save-params \(path): cannot write (\(error.localizedDescription)); check the directory")
        }
    }
}
