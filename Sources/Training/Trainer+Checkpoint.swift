import Basics
import Checkpoint
import Collectives
import Foundation
import RankProcess

/// Where the loop stands after a step (or where a resumed run starts): the next step's global
/// index, its epoch and index within the epoch, and the epoch's running loss.
struct LoopPoint {
    var step = 0
    var epoch = 0
    var stepInEpoch = 0
    var epochLossSum = 0.0
    var epochSteps = 0

    /// The running loss and first step of `epoch` (restored when the run resumed inside it).
    func lossSum(_ epoch: Int) -> Double { epoch == self.epoch ? epochLossSum : 0 }
    func steps(_ epoch: Int) -> Int { epoch == self.epoch ? epochSteps : 0 }
    func firstStep(_ epoch: Int) -> Int { epoch == self.epoch ? stepInEpoch : 0 }
}

/// The trainer's three checkpoint calls: resume before the loop, save after a step every
/// `--checkpoint-every`, save at the end. All collective.
extension Trainer {
    var checkpointIdentity: CheckpointIdentity {
        CheckpointIdentity(model: workload.signature, optimizer: config.optimizer,
                           schedule: config.schedule, warmupSteps: schedule.warmupSteps, totalSteps: schedule.totalSteps,
                           minLR: config.minLR, clipNorm: config.clipNorm, globalBatch: config.globalBatch, seed: config.seed,
                           perRankState: core.optimizer.state.perRank, averagedVotes: config.signVote && config.vote == .average)
    }

    /// Loads the checkpoint asked for (`--resume` or `--resume-from`) into the parameters and
    /// this rank's optimizer state, and returns where to continue; a fresh start otherwise.
    func resumePoint(stats: inout RunStats) throws -> LoopPoint {
        let c = config.checkpoint
        guard c.resume || c.resumeFrom != nil else { return LoopPoint() }
        let chosen = try comm.agree { () throws -> String in
            guard isRoot else { return "" }
            if let file = c.resumeFrom { return file }
            let dir = c.directory!
            guard let newest = CheckpointDirectory(path: dir).checkpoints().first else {
                throw TrainingError("--resume: no checkpoint in \(dir) (no ckpt-*.lion file); run without --resume to start fresh")
            }
            return newest.path
        }
        let path = try comm.broadcastString(chosen, root: 0)
        let clock = MPIRuntime.time()
        let header: CheckpointHeader
        do {
            header = try CheckpointReader.load(comm: comm, path: path, expected: checkpointIdentity,
                                               params: core.paddedParameters,
                                               shard: layout.range(of: comm.rank), optimizer: core.optimizer.state.optimizer)
        } catch {
            // Name the next older checkpoint that passes every check, so the user can fall back.
            // A mismatch is not corruption: an older checkpoint of the same run would not fit either.
            let mismatch = (error as? CheckpointError)?.kind == .mismatch
            var hint = ""
            if isRoot && !mismatch {
                let url = URL(fileURLWithPath: path)
                let step = CheckpointDirectory.step(ofFileName: url.lastPathComponent) ?? .max
                let older = CheckpointDirectory(path: url.deletingLastPathComponent().path).newestValid(below: step)
                hint = older.map { "; nothing was loaded; the next older valid checkpoint is \($0) (pass --resume-from \($0))" }
                    ?? "; nothing was loaded; no older valid checkpoint exists"
            }
            let message = String(describing: error) + (try comm.broadcastString(hint, root: 0))
            try comm.agree { throw TrainingError(message) }
            throw error
        }
        try core.paramsWritten()
        let p = header.position
        let perEpoch = workload.stepsPerPeriod
        try comm.agree {
            guard p.epoch * perEpoch + p.stepInEpoch == p.step, p.stepInEpoch <= perEpoch else {
                throw TrainingError("checkpoint \(path): position epoch \(p.epoch) step \(p.stepInEpoch) does not match step \(p.step) at \(perEpoch) steps per epoch")
            }
            guard p.step <= totalSteps, p.epoch < workload.periods || p.step == totalSteps else {
                throw TrainingError("checkpoint \(path) is at step \(p.step), past this run's \(totalSteps) steps; pass more --epochs or --max-steps")
            }
        }
        stats.skipped = p.skippedSteps
        if isRoot {
            print("resumed from \(path) (written by \(header.writerWorldSize) rank(s)): step \(p.step), epoch \(p.epoch + 1), step \(p.stepInEpoch)/\(perEpoch) of the epoch, "
                  + String(format: "read in %.3f s", MPIRuntime.time() - clock))
        }
        return LoopPoint(step: p.step, epoch: p.epoch, stepInEpoch: p.stepInEpoch, epochLossSum: p.epochLossSum,
                         epochSteps: p.epochSteps)
    }

    /// After each step: the test hook, then a save when `--checkpoint-every` divides the step
    /// count, then the stop check: after a SIGTERM/SIGINT on any rank (agreed in the step's
    /// scalar allreduce: `stats.stop`) every rank saves (unless it just did) and stops here
    /// together, with one line.
    func checkpointAfterStep(_ at: LoopPoint, stats: RunStats) throws {
        config.checkpoint.hooks.afterStep(at.step, rank: comm.rank)
        var due = config.checkpoint.every.map { at.step % $0 == 0 } ?? false
        if due && stats.unsafeToSave {
            due = false
            if isRoot && config.checkpoint.directory != nil {
                print("checkpoint of step \(at.step) not saved: the loss is far above the first step's or the gradient is not finite; the newest checkpoint stays the one from before")
            }
        }
        if due { try saveCheckpoint(at, stats: stats) }
        config.checkpoint.hooks.afterSave(at.step)
        guard let sig = stats.stop else { return }
        let what = "stopped by \(StopSignal.name(sig)) after step \(at.step) of \(totalSteps)"
        guard let dir = config.checkpoint.directory else {
            throw CollectiveFailure(failingRank: 0, message: "\(what); no checkpoint written (no --checkpoint DIR): the steps of this run are lost")
        }
        if !due { try saveCheckpoint(at, stats: stats) }
        throw CollectiveFailure(failingRank: 0, message: "\(what); checkpoint \(CheckpointDirectory(path: dir).finalPath(step: at.step)) "
            + "written; continue with --resume (the same flags)")
    }

    /// At the end of the run, unless the last step was just saved or nothing ran.
    func finalCheckpoint(_ at: LoopPoint, start: LoopPoint, stats: RunStats) throws {
        let savedAlready = config.checkpoint.every.map { at.step % $0 == 0 } ?? false
        if at.step > start.step && !savedAlready && !stats.unsafeToSave { try saveCheckpoint(at, stats: stats) }
    }

    func saveCheckpoint(_ at: LoopPoint, stats: RunStats) throws {
        guard let dir = config.checkpoint.directory else { return }
        watchdog?.enter(step: at.step, .save)
        let position = CheckpointPosition(step: at.step, epoch: at.epoch, stepInEpoch: at.stepInEpoch,
                                          optimizerStep: core.optimizer.state.optimizer.step, skippedSteps: stats.skipped,
                                          epochLossSum: at.epochLossSum, epochSteps: at.epochSteps)
        let directory = CheckpointDirectory(path: dir)
        let report: SaveReport
        do {
            report = try CheckpointWriter.save(comm: comm, directory: directory, keep: config.checkpoint.keep,
                                               identity: checkpointIdentity, position: position,
                                               params: UnsafeBufferPointer(core.paddedParameters),
                                               shard: layout.range(of: comm.rank), optimizer: core.optimizer.state.optimizer,
                                               hooks: config.checkpoint.hooks)
        } catch let failure as CollectiveFailure {
            // Every rank agreed; only rank 0 prints, so only rank 0 looks for the last good one.
            let last = isRoot ? directory.checkpoints().first.map { "\($0.path) is intact (continue with --resume)" } : nil
            throw CollectiveFailure(failingRank: failure.failingRank,
                                    message: "checkpoint of step \(at.step) not saved, training stopped: \(failure.message); "
                                        + (last ?? "no earlier checkpoint exists in \(dir)"))
        }
        if isRoot {
            print(String(format: "checkpoint %@: %@ in %.3f s (%.1f MB/s)", report.path, Format.bytes(report.bytes),
                         report.seconds, report.megabytesPerSecond))
            log.write("checkpoint", [("step", .int(at.step)), ("path", .string(report.path)), ("bytes", .int(report.bytes)),
                                     ("seconds", .number(report.seconds)), ("mb_per_s", .number(report.megabytesPerSecond))])
        }
    }
}
