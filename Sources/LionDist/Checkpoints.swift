import Checkpoint
import Collectives
import Foundation

extension DistributedOptimizer {
    /// What a checkpoint of this optimizer must match to be loaded: the model (its parameter
    /// count and tensor count) and every hyperparameter that changes the trajectory.
    var checkpointIdentity: CheckpointIdentity {
        CheckpointIdentity(model: .custom(parameterCount: parameterCount, shape: [tensors.count]),
                           optimizer: options.engineConfig, schedule: schedule.kind,
                           warmupSteps: schedule.warmupSteps, totalSteps: schedule.totalSteps, minLR: schedule.minLR,
                           clipNorm: clipNorm, globalBatch: 1, seed: 0)
    }

    /// Saves the parameters and the optimizer state in one file, `directory/ckpt-<step>.lion`,
    /// written collectively with MPI-IO (each rank writes its shard), checksummed, and renamed
    /// into place only when every rank succeeded; keeps the newest `keep`. Readable at any
    /// world size (`lion-dist inspect` reads it too). Collective. Returns the file's path.
    @discardableResult
    public func saveCheckpoint(directory: String, keep: Int = 2) throws -> String {
        guard keep >= 1 else { throw LionDistError(.invalidArgument, "keep must be >= 1, got \(keep)") }
        let position = CheckpointPosition(step: stepCount, epoch: 0, stepInEpoch: stepCount,
                                          optimizerStep: localOptimizer.step, skippedSteps: skippedSteps,
                                          epochLossSum: 0, epochSteps: 0)
        let report = try LionDistError.wrap {
            try CheckpointWriter.save(comm: world.comm, directory: CheckpointDirectory(path: directory), keep: keep,
                                      identity: checkpointIdentity, position: position,
                                      params: UnsafeBufferPointer(core.paddedParameters),
                                      shard: layout.range(of: world.rank), optimizer: localOptimizer)
        }
        return report.path
    }

    /// The newest checkpoint in `directory`, or nil when it has none.
    public static func newestCheckpoint(in directory: String) -> String? {
        CheckpointDirectory(path: directory).checkpoints().first?.path
    }

    /// Loads parameters, optimizer state and step counts from a checkpoint that
    /// `saveCheckpoint(directory:keep:)` wrote, at any world size. Every block's checksum is
    /// verified first; a damaged file or one written for another model or other
    /// hyperparameters throws a `LionDistError` of kind `.checkpoint` on every rank. Collective.
    public func loadCheckpoint(_ path: String) throws {
        let header = try LionDistError.wrap {
            try CheckpointReader.load(comm: world.comm, path: path, expected: checkpointIdentity,
                                      params: core.paddedParameters,
                                      shard: layout.range(of: world.rank), optimizer: localOptimizer)
        }
        stepCount = header.position.step
        skippedSteps = header.position.skippedSteps
    }
}
