import ArgumentParser
import Checkpoint
import Foundation
import RunSchema
import Training
import Workloads
#if canImport(Glibc)
import Glibc
#endif

/// `lion-dist inspect FILE [--json]`: the header, every block checksum verified, and digests of
/// the parameters and the optimizer state (FNV-1a 64 over the canonical fp32 bytes, so they do
/// not depend on the world size that wrote the file). No MPI. Exit status 1 when invalid.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a checkpoint's header, verify every checksum, and print digests of its parameters and state.")

    @Argument(help: "A checkpoint file (ckpt-<step>.lion).")
    var file: String

    @Flag(help: "One JSON object: step, world_size, params, optimizer, state_dtype, params_digest, state_digest, valid, model, state_per_rank (and error).")
    var json = false

    func run() throws {
        var report: CheckpointVerifier.Report? = nil
        var failure: String? = nil
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            let newest = CheckpointDirectory(path: file).checkpoints().last?.path
            failure = "\(file) is a directory, not a checkpoint file; pass one checkpoint file in it"
                + (newest.map { ", e.g. lion-dist inspect \($0)" } ?? " (it holds no ckpt-<step>.lion)")
        } else {
            do {
                report = try CheckpointVerifier.fullCheck(try LocalCheckpointFile(path: file))
            } catch {
                failure = "checkpoint \(file): \(error)"
            }
        }
        if json {
            let h = report?.header
            var fields: [(String, JSON)] = [
                ("step", h.map { .int($0.position.step) } ?? .int(-1)),
                ("world_size", h.map { .int($0.writerWorldSize) } ?? .int(-1)),
                ("params", h.map { .int($0.parameterCount) } ?? .int(-1)),
                ("optimizer", .string(h?.identity.optimizer.kind.rawValue ?? "")),
                ("state_dtype", .string(h?.identity.optimizer.stateDType.rawValue ?? "")),
                ("params_digest", .string(report?.paramsDigest ?? "")),
                ("state_digest", .string(report?.stateDigest ?? "")),
                ("valid", .bool(report != nil)),
                ("model", .string(h?.identity.model.named.description ?? "")),
                ("state_per_rank", .bool(h?.identity.perRankState ?? false)),
                ("cautious_factor", .number(Double(h?.identity.optimizer.cautiousFactor ?? 1))),
            ]
            if let failure { fields.append(("error", .string(failure))) }
            print(JSON.object(fields).text)
        } else if let r = report {
            let h = r.header, id = h.identity, o = id.optimizer, p = h.position
            print("""
            checkpoint \(file): valid (\(h.blockCount) blocks of \(h.blockSize) bytes, all checksums match)
            format: version \(CheckpointHeader.version), \(h.fileBytes) bytes (header \(h.headerBytes), data at \(h.dataOffset)), written by \(h.writerWorldSize) rank(s)
            model: \(id.model.named), \(h.parameterCount) parameters
            optimizer: \(o.kind.rawValue) lr \(o.lr) betas \(o.beta1)/\(o.beta2) wd \(o.weightDecay) eps \(o.eps)\(o.isCautious ? " cautious factor \(o.cautiousFactor)" : ""), state \(o.stateDType.rawValue) (stored fp32\(id.perRankState ? "; one copy per rank, --comm sign-vote" : ""))
            schedule: \(id.schedule.rawValue), warmup \(id.warmupSteps), \(id.totalSteps) steps, min lr \(id.minLR); clip \(id.clipNorm); batch \(id.globalBatch); seed \(id.seed)
            position: step \(p.step) (applied \(p.optimizerStep), skipped \(p.skippedSteps)), epoch \(p.epoch + 1), step \(p.stepInEpoch) of the epoch
            params_digest \(r.paramsDigest)
            state_digest \(r.stateDigest)
            """)
        } else if let failure {
            StandardError.write("error: \(failure)")
        }
        if report == nil { throw ExitCode(1) }
    }
}
