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

    /// Creates the directory if needed, replaces a stale temporary file of this step with a new
    /// one and reserves `bytes` for it (posix_fallocate), so that a disk too full for the whole
    /// checkpoint fails here, before anything is written, naming the space it needs and has.
    public func prepare(step: Int, bytes: Int, preallocate: Bool = true) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, "--checkpoint \(path): cannot create the directory (\(error.localizedDescription))")
        }
        let tmp = temporaryPath(step: step)
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError(.io, "cannot create \(tmp): \(String(cString: strerror(errno))); check --checkpoint \(path)")
        }
        defer { close(fd) }
        guard preallocate else { return }
        let rc = posix_fallocate(fd, 0, off_t(bytes))
        // A file system without fallocate (EOPNOTSUPP, EINVAL): the checked writes and the
        // read-back verification still catch a full disk, only later.
        guard rc != 0, rc != EOPNOTSUPP, rc != EINVAL, rc != ENOSYS else { return }
        unlink(tmp)
        if rc == ENOSPC || rc == EDQUOT {
            throw CheckpointError(.io, "no space left on the file system of --checkpoint \(path) for a \(Self.mebibytes(bytes)) "
                + "checkpoint (\(freeBytes().map(Self.mebibytes) ?? "unknown") free); free space there or pass another --checkpoint dir")
        }
        throw CheckpointError(.io, "cannot reserve \(Self.mebibytes(bytes)) for \(tmp): \(String(cString: strerror(rc)))")
    }

    /// Bytes an unprivileged writer may still use on the directory's file system (statvfs).
    public func freeBytes() -> Int? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    static func mebibytes(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }

    /// What is wrong with `path` as a checkpoint file to read, or nil when it is a readable
    /// regular file: said before MPI-IO, whose own errors do not say it.
    public static func problem(reading path: String) -> String? {
        var s = stat()
        guard stat(path, &s) == 0 else {
            return errno == ENOENT ? "does not exist" : "cannot be reached: \(String(cString: strerror(errno)))"
        }
        switch s.st_mode & S_IFMT {
        case S_IFDIR: return "is a directory, not a checkpoint file; pass a ckpt-<step>.lion file"
        case S_IFREG: break
        default: return "is not a regular file"
        }
        if access(path, R_OK) != 0 { return "cannot be read: \(String(cString: strerror(errno)))" }
        return nil
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
