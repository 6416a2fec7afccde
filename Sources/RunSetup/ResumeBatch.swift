import Basics
import Checkpoint
import Training

extension TrainConfig {
    /// A resumed run at a world size that does not divide the global batch: rather than the
    /// nearest batch sizes (which the checkpoint would refuse), name the rank counts that can
    /// resume the checkpoint: the divisors of the batch it was written with. The batch cannot
    /// change on resume: with the seed it defines the order of the data. Every rank reads the
    /// small header itself; nothing to do when not resuming or when the batch splits.
    public func checkResumeBatch(worldSize: Int) throws {
        guard checkpoint.resume || checkpoint.resumeFrom != nil, globalBatch % worldSize != 0 else { return }
        let path = checkpoint.resumeFrom ?? checkpoint.directory.flatMap { CheckpointDirectory(path: $0).checkpoints().first?.path }
        guard let path, let file = try? LocalCheckpointFile(path: path),
              let header = try? CheckpointVerifier.header(of: file) else { return }
        let batch = header.identity.globalBatch
        guard batch == globalBatch else {
            throw TrainingError("checkpoint \(path) was written with --batch-size \(batch), this run has \(globalBatch); pass the same --batch-size")
        }
        let counts = (1...batch).filter { batch % $0 == 0 }
        let shown = counts.count > 24 ? counts.prefix(23).map(String.init) + ["..."] : counts.map(String.init)
        let list = shown.count > 1 ? shown.dropLast().joined(separator: ", ") + " or " + shown.last! : shown[0]
        throw TrainingError("checkpoint \(path) was written for global batch \(batch), which does not split over \(worldSize) ranks; "
            + "resume it at \(list) ranks (the divisors of \(batch): the batch is fixed for a run, it defines the data order)")
    }
}
