import ArgumentParser
import Checkpoint
import Training

/// The checkpoint flags of `train`, checked before MPI starts.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Write checkpoints to this directory (one file per save: ckpt-<step>.lion); always one at the end.")
    var checkpoint: String?

    @Option(help: "Also save a checkpoint after every this many optimizer steps.")
    var checkpointEvery: Int?

    @Option(help: "Keep the newest this many checkpoints in --checkpoint.")
    var keep: Int = 2

    @Flag(help: "Continue from the newest checkpoint in --checkpoint (any rank count).")
    var resume = false

    @Option(help: "Continue from this checkpoint file (any rank count).")
    var resumeFrom: String?

    func validate() throws {
        if let every = checkpointEvery {
            if every < 1 { throw ValidationError("--checkpoint-every must be at least 1, got \(every)") }
            if checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint DIR to write to") }
        }
        if keep < 1 { throw ValidationError("--keep must be at least 1, got \(keep)") }
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint DIR to look in (or use --resume-from FILE)") }
        if resume && resumeFrom != nil { throw ValidationError("pass either --resume or --resume-from FILE, not both") }
    }

    var settings: CheckpointSettings {
        var s = CheckpointSettings()
        s.directory = checkpoint
        s.every = checkpointEvery
        s.keep = keep
        s.resume = resume
        s.resumeFrom = resumeFrom
        return s
    }
}
