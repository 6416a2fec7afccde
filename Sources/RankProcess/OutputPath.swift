import Basics
import Collectives
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks of output paths that create nothing that stays.
package enum OutputPath {
    /// `path` can be written as a file: an existing regular file opens for writing (untouched),
    /// or a new one can be created in its directory (created, then removed).
    package static func checkWritableFile(_ path: String, flag: String) throws {
        var s = stat()
        if stat(path, &s) == 0 {
            guard s.st_mode & S_IFMT == S_IFREG else {
                throw TrainingError("\(flag) \(path) is \(s.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"); pass a file path")
            }
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw TrainingError("\(flag) \(path): cannot write (\(errnoText())); pass a writable path") }
            close(fd)
            return
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let why = errnoText()
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            throw TrainingError("\(flag) \(path): cannot create the file (\(why)); check that \(dir) exists and is writable")
        }
        close(fd)
        unlink(path)
    }

    /// `dir` is a directory this rank can write to (it exists by now: rank 0 created it).
    package static func checkVisibleDirectory(_ dir: String, rank: Int) throws {
        var s = stat()
        let ok = stat(dir, &s) == 0 && (s.st_mode & S_IFMT == S_IFDIR || { errno = ENOTDIR; return false }())
            && access(dir, W_OK | X_OK) == 0
        guard ok else {
            let why = errnoText()
            throw TrainingError("--checkpoint \(dir): rank \(rank) on \(Communicator.processorName()) cannot write there "
                + "(\(why)); every rank writes its shard: use a directory on a file system all ranks share")
        }
    }

    /// The text of `errno`, read at once (any later call may change it).
    package static func errnoText() -> String { String(cString: strerror(errno)) }
}
