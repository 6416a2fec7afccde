import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The checkpoint directory: `ckpt-00000300.lion` per saved step, written first as
/// `.ckpt-00000300.lion.tmp` and renamed into place only once complete; keeps the newest K.
/// Local file-system work only: rank 0 calls it.
public struct CheckpointDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static func fileName(step: Int) -> String { String(format: "ckpt-%08d.lion", step) }

    public func finalPath(step: Int) -> String { path + "/" + Self.fileName(step: step) }
    public func temporaryPath(step: Int) -> String { path + "/." + Self.fileName(step: step) + ".tmp" }

    /// The step a checkpoint file name stands for, or nil for any other name.
    public static func step(ofFileName name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".lion") else { return nil }
        let digits = name.dropFirst(5).dropLast(5)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// Checkpoint files, newest (highest step) first. Temporary files are not checkpoints.
    public func checkpoints() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in Self.step(ofFileName: name).map { ($0, path + "/" + name) } }
            .sorted { $0.step > $1.step }
    }

    /// The newest checkpoint below `step` that passes every check (header and all block
    /// checksums), or nil.
    public func newestValid(below step: Int = .max) -> String? {
        for c in checkpoints() where c.step < step {
            if let source = try? LocalCheckpointFile(path: c.path), (try? CheckpointVerifier.fullCheck(source)) != nil {
                return c.path
            }
        }
        return nil
    }

    /// Creates the directory if needed and removes a stale temporary file of this step.
    public func prepare(step: Int) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, "--checkpoint \(path): cannot create the directory (\(error.localizedDescription))")
        }
        unlink(temporaryPath(step: step))
    }

    /// Atomically renames the complete temporary file into place and syncs the directory, so the
    /// new name survives a crash. The old checkpoint of this step, if any, is replaced only now.
    public func commit(step: Int) throws {
        let tmp = temporaryPath(step: step), final = finalPath(step: step)
        guard rename(tmp, final) == 0 else {
            throw CheckpointError(.io, "cannot rename \(tmp) to \(final): \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Deletes all but the newest `keep` checkpoints, and temporary files left by killed runs.
    public func prune(keep: Int) {
        for c in checkpoints().dropFirst(keep) { unlink(c.path) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix(".ckpt-") && name.hasSuffix(".lion.tmp") { unlink(path + "/" + name) }
    }
}
