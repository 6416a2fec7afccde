import Basics
import Collectives
import Foundation
import LionEngine
import MemoryPlanning
import RankProcess
import RunSchema
import Sharding

extension Trainer {
    /// Runs every epoch (or `maxSteps`), printing progress and test accuracy on rank 0, and
    /// returns the summary (the same on every rank). Collective.
    ///
    /// Failures every rank agreed on (a bad checkpoint, a full disk, a signal, a divergence:
    /// `CollectiveFailure`) are thrown on every rank. An error on one rank only (the workload's
    /// forward/backward, its data or its evaluation threw, an MPI call failed) cannot be: the
    /// other ranks already wait in the step's collectives. That rank writes its error as one line
    /// and ends the job (`MPI_Abort`), so every rank stops within seconds and none is left in a
    /// collective or freeing a shared window (MPI_Win_free is collective too).
    public func run() throws -> RunSummary {
        do { return try runSteps() } catch let agreed as CollectiveFailure {
            watchdog?.stop()
            watchdog = nil
            throw agreed
        } catch {
            comm.abort(error)
        }
    }

    private func runSteps() throws -> RunSummary {
        if isRoot { print(banner()) }
        let held = try preflight()
        defer { held.end() }
        var stats = RunStats()
        let start = try resumePoint(stats: &stats)
        // From the first step to the final save (a resume's read and the end's report are not watched).
        // Not released while unwinding from an error on this rank only: freeing its window is
        // collective (run() ends the job instead).
        if config.stallTimeout > 0 { watchdog = try StallWatchdog(timeout: config.stallTimeout, topology: topology) }
        log.step = start.step
        var at = start
        let total = totalSteps, stop = stopStep, perPeriod = workload.stepsPerPeriod
        var progress = Progress(totalSteps: stop, globalBatch: config.globalBatch, interval: config.logInterval,
                                itemsPerSample: workload.itemsPerSample, unit: workload.throughputUnit)
        progress.firstStep = start.step
        var globalStep = start.step
        var final = LossSums(lossSum: .nan, count: 0)
        var lastTrainLoss = Double.nan
        let started = MPIRuntime.time()
        var trainSeconds = 0.0
        var records: [(event: String, fields: [(String, JSON)])] = []
        let board = isRoot ? config.tensorboardDirectory.map { TensorBoardLog(directory: $0) } : nil
        defer { board?.close() }

        periods: for period in start.epoch..<workload.periods {
            let periodStart = MPIRuntime.time()
            var lossSum = start.lossSum(period), steps = start.steps(period)
            for s in start.firstStep(period)..<perPeriod {
                if globalStep >= stop { break }
                let loss = try step(globalStep, stats: &stats)
                if let why = stats.divergence.train(loss, step: globalStep + 1) { throw diverged(why, step: globalStep + 1) }
                globalStep += 1
                log.step = globalStep
                steps += 1
                lossSum += loss
                at = LoopPoint(step: globalStep, epoch: period, stepInEpoch: s + 1, epochLossSum: lossSum, epochSteps: steps)
                board?.step(globalStep, loss: loss, lr: schedule.lr(atStep: globalStep - 1), gradNorm: stats.lastGradNorm)
                try checkpointAfterStep(at, stats: stats)
                if isRoot, let line = progress.tick(position: workload.progressPosition(step: globalStep, totalSteps: total),
                                                    done: globalStep, loss: loss,
                                                    elapsed: trainSeconds + MPIRuntime.time() - periodStart) {
                    print(line.text)
                    var fields: [(String, JSON)] = [("epoch", .int(period + 1)), ("step", .int(globalStep)), ("loss", .number(loss)),
                                                    ("samples_per_s", .number(line.samplesPerSecond)),
                                                    ("lr", .number(Double(schedule.lr(atStep: globalStep - 1))))]
                    if workload.itemsPerSample > 1 { fields.append(("\(workload.throughputUnit)_per_s", .number(line.itemsPerSecond))) }
                    if let masked = stats.lastMasked { fields.append(("masked_fraction", .number(masked))) }
                    log.write("step", fields)
                    board?.throughput(globalStep, unit: workload.itemsPerSample > 1 ? workload.throughputUnit : "samples",
                                      perSecond: workload.itemsPerSample > 1 ? line.itemsPerSecond : line.samplesPerSecond)
                }
            }
            trainSeconds += MPIRuntime.time() - periodStart
            lastTrainLoss = steps > 0 ? lossSum / Double(steps) : .nan
            watchdog?.enter(step: globalStep, .evaluation)
            final = try evaluate()
            if let why = stats.divergence.evaluation(final.loss, step: globalStep) { throw diverged(why, step: globalStep) }
            let record = PeriodRecord(period: period + 1, step: globalStep, trainLoss: lastTrainLoss, evaluation: final,
                                      seconds: MPIRuntime.time() - periodStart)
            let event = workload.periodEvent(record)
            records.append(event)
            if isRoot {
                print(workload.periodLine(record, of: RunShape(periods: workload.periods, totalSteps: total)))
                log.write(event.event, event.fields)
                board?.evaluation(globalStep, event.fields)
            }
            if globalStep >= stop { break periods }
        }

        try finalCheckpoint(at, start: start, stats: stats)
        watchdog?.stop()
        watchdog = nil
        let seconds = MPIRuntime.time() - started
        if stats.maskedSteps > 0 && isRoot {
            print(String(format: "cautious Lion (factor %g): %.1f%% of the elements masked per step on average",
                         Double(config.optimizer.cautiousFactor), 100 * stats.maskedSum / Double(stats.maskedSteps)))
        }
        if stats.skipped > 0 && isRoot {
            print("skipped \(stats.skipped) step(s) with non-finite gradients (parameters left unchanged)")
        }
        let ranks = try MemoryReport.gather(memoryRow(), comm: comm)
        let ran = globalStep - start.step
        let n = Double(max(ran, 1))
        let samplesPerSecond = Double(ran * config.globalBatch) / max(trainSeconds, 1e-9)
        let summary = RunSummary(
            model: workload.name, worldSize: comm.size, optimizer: config.optimizer.kind.rawValue,
            stateDType: config.optimizer.stateDType.rawValue, params: workload.parameterCount,
            globalBatch: config.globalBatch, steps: globalStep, skippedSteps: stats.skipped,
            evaluation: final, finalTrainLoss: lastTrainLoss, seconds: seconds, samplesPerSecond: samplesPerSecond,
            compute: stats.compute / n, timings: stats.timings.scaled(by: 1 / n), ranks: ranks,
            threadsPerRank: threads, periods: records,
            mfu: workload.trainingFLOPsPerSample.map { $0 * samplesPerSecond / (Double(comm.size) * sgemmFLOPS) },
            sgemmFLOPS: sgemmFLOPS, computeDType: computeDType.rawValue, cpu: cpu,
            evaluationFields: workload.summaryFields(final, samplesPerSecond: samplesPerSecond))
        board?.memory(globalStep, ranks)
        if let path = config.saveParamsPath {
            try comm.agree { if isRoot { try saveParams(to: path) } }
        }
        if isRoot {
            log.write("summary", summary.json)
            print(report(summary))
            if let line = log.stoppedLine { print(line) }
        }
        return summary
    }

    func banner() -> String {
        let opt = config.optimizer
        let hyper = opt.kind == .lion
            ? "lr \(opt.lr) betas \(opt.beta1)/\(opt.beta2) wd \(opt.weightDecay)" + (opt.isCautious ? " cautious factor \(opt.cautiousFactor)" : "")
            : "lr \(opt.lr) betas \(opt.beta1)/\(opt.beta2) eps \(opt.eps) wd \(opt.weightDecay)"
        let local = config.globalBatch / comm.size
        return """
        lion-dist: \(comm.size) rank(s) on \(topology.hosts) host(s), \(threads) thread(s) per rank
        cpu: \(cpu)
        model: \(workload.description), \(workload.parameterCount) parameters; shard \(layout.shardCount) per rank (\(layout.padding) padding)
        optimizer: \(opt.kind.rawValue) (\(hyper)), state \(opt.stateDType.rawValue), schedule \(config.schedule.rawValue) (warmup \(schedule.warmupSteps)), clip \(config.clipNorm > 0 ? "\(config.clipNorm)" : "off")
        comm: \(core.description)
        data: global batch \(config.globalBatch) (\(local) per rank), \(workload.stepsPerPeriod) steps/\(workload.periodName), \(workload.periods) \(workload.periodName)(s), \(totalSteps) steps
        """
    }

    func report(_ s: RunSummary) -> String {
        let opt = config.optimizer
        let unsharded = workload.parameterCount * opt.stateBuffers * opt.stateDType.bytesPerElement
        let phases = String(format: "per step: compute %.2f ms, combine %.2f ms, update %.2f ms, gather %.2f ms",
                            s.compute * 1e3, s.timings.combine * 1e3, s.timings.update * 1e3, s.timings.gather * 1e3)
        let perStep = s.worldSize == 1 ? phases + "; no communication (1 rank)"
            : phases + String(format: "; communication %.2f ms total, %.2f ms exposed",
                              s.timings.commTotal * 1e3, s.timings.commExposed * 1e3)
        return """
        done: \(workload.summaryText(s.evaluation)) after \(s.steps) steps in \(Format.duration(s.seconds)), \(Format.rate(s.samplesPerSecond * Double(workload.itemsPerSample))) \(workload.throughputUnit)/s
        \(perStep)
        \(s.mfu.map { String(format: "model FLOPs utilisation %.1f%% (%.2f GFLOP/s per rank of the %.1f GFLOP/s %@ rate measured at start)", $0 * 100, $0 * s.sgemmFLOPS / 1e9, s.sgemmFLOPS / 1e9, matmulName) } ?? "")
        memory per rank (optimizer state unsharded would be \(Format.bytes(unsharded)); \(core.optimizer.state.perRank ? "with sign-vote each rank holds all of it, its own momentum" : "each rank holds 1/\(s.worldSize) of it"); Pss counts shared pages 1/k per rank, RSS in full):
        \(MemoryReport.table(s.ranks))
        \(MemoryReport.planTable(plan(), s.ranks[0]))
        """
    }

    /// What `lion-dist plan` predicts for this run.
    func plan() -> MemoryPlan {
        MemoryPlan(config: config, model: PlannedModel(parameters: workload.parameterCount, segments: workload.segments,
                                                       held: workload.plannedBytes),
                   worldSize: comm.size, ranksPerNode: topology.node.size)
    }

    /// This rank's memory: what it holds by category, and Pss/RSS measured (a last Pss sample now).
    func memoryRow() -> RankMemory {
        pss.sample()
        let end = ProcessMemory.pssBytes()
        let buffers = core.heldBytes, data = workload.heldBytes
        var held = MemoryBreakdown()
        held.parameters = buffers.parameters
        held.computeParameters = data.computeParameters
        held.gradients = buffers.gradients
        held.optimizerState = core.stateBytes
        held.activations = data.activations
        held.dataset = data.dataset
        held.runtime = max(0, pss.peak - held.total)
        // A full-size gradient buffer, or (sharded gradients) the staging slots and reduced shard.
        let gradBytes = core.flatGradients == nil ? buffers.gradients : layout.paddedCount * 4
        return RankMemory(rank: comm.rank, host: Communicator.processorName(), paramBytes: layout.paddedCount * 4,
                          gradBytes: gradBytes, optimizerStateBytes: core.stateBytes,
                          peakRSSBytes: MemoryReport.peakRSSBytes(), peakPssBytes: pss.peak, endPssBytes: end, held: held)
    }

    /// Rank 0 writes the real (unpadded) parameters as little-endian float32.
    func saveParams(to path: String) throws {
        let data = Data(buffer: UnsafeBufferPointer(start: core.parameters.base, count: workload.parameterCount))
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw TrainingError("--save-params \(path): cannot write (\(error.localizedDescription)); check the directory")
        }
    }
}
