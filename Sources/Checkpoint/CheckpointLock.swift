import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a checkpoint directory, held by rank 0 for the whole run: `flock(2)` on
/// `DIR/.lion-dist.lock`. The kernel drops it when the process ends, however it ends (kill -9
/// included), so a killed run never leaves it stuck; the file itself stays (deleting a lock
/// file races with the next run). The file holds the holder's pid and host, for the refusal.
/// flock works on local file systems and on NFS (Linux emulates it with POSIX locks); Lustre
/// needs the `flock` mount option.
public final class CheckpointLock {
    public static let fileName = ".lion-dist.lock"
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Creates `directory` if needed and locks it, or throws one line: the path is a file, the
    /// directory cannot be created or written, or another run holds it.
    public static func acquire(directory: String) throws -> CheckpointLock {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CheckpointError(.io, "--checkpoint \(directory) is a file, not a directory; pass a directory (created if missing)")
        }
        if let why = makeDirectories(directory) {
            throw CheckpointError(.io, "--checkpoint \(directory): cannot create the directory (\(why)); pass a writable location")
        }
        let path = directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError(.io, "--checkpoint \(directory): cannot write in the directory (\(String(cString: strerror(errno)))); pass a writable directory")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let why = errno
            let holder = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            if why == EWOULDBLOCK {
                throw CheckpointError(.io, "--checkpoint \(directory) is in use by another run (\(holder.isEmpty ? "its lock \(path) is held" : holder)); "
                    + "wait for it to finish or pass another --checkpoint dir")
            }
            throw CheckpointError(.io, "--checkpoint \(directory): cannot lock \(path) (\(String(cString: strerror(why))))")
        }
        ftruncate(fd, 0)
        let host = ProcessInfo.processInfo.hostName
        handle.write(Data("pid \(getpid()) on \(host), started \(Date())\n".utf8))
        return CheckpointLock(path: path, fd: fd)
    }

    /// Unlocks (also done by deinit and by the process ending).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// `mkdir -p`: nil on success, else the system's reason (e.g. "Read-only file system"),
    /// which Foundation's errors do not give.
    static func makeDirectories(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
            prefix += "/"
        }
        var s = stat()
        guard stat(path, &s) == 0, s.st_mode & S_IFMT == S_IFDIR else { return "a part of the path is not a directory" }
        return nil
    }
}
