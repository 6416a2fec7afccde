import Basics
import Foundation
import RunSchema
#if canImport(Glibc)
import Glibc
#endif

/// `--metrics FILE`: JSON Lines written by rank 0, one write(2) per line so a killed run keeps
/// what it logged. Events and keys are documented in docs/metrics.md.
///
/// Metrics never cost training: the file is opened in place (a symlink stays a symlink, nothing
/// is renamed over it), and a write that fails (full disk, quota, I/O error) prints one warning,
/// cuts the partial line off, and turns the log off; `stopped` then says at which step, for the
/// run's summary.
public final class MetricsLog {
    private let fd: Int32
    private let path: String
    /// Bytes of complete lines in the file (where a failed write is cut back to).
    private var size: off_t = 0
    /// The optimizer steps done when the next line is written (the trainer keeps it current).
    var step = 0
    /// Why and at which step writing stopped, nil while it works.
    private(set) var stopped: (step: Int, reason: String)?

    /// nil path: a log that drops everything (other ranks, or no --metrics). `append` (a
    /// resumed run) continues an existing file; otherwise the file is emptied in place. A path
    /// that is not a regular file (a directory, a device, a socket; a symlink is followed and
    /// kept) or whose directory is missing is refused here, before step 1.
    public init(path: String?, append: Bool = false) throws {
        guard let path else { fd = -1; self.path = ""; return }
        self.path = path
        var s = stat()
        if stat(path, &s) == 0 && s.st_mode & S_IFMT != S_IFREG {
            let what = s.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file (a device, pipe or socket)"
            throw TrainingError("--metrics \(path) is \(what); pass a path for a JSON Lines file")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            throw TrainingError("--metrics \(path): cannot open the file (\(why)); check that \(dir) exists and is writable")
        }
        self.fd = fd
        size = fstat(fd, &s) == 0 ? s.st_size : 0
    }

    deinit { if fd >= 0 { close(fd) } }

    public func write(_ event: String, _ fields: [(String, JSON)]) {
        guard fd >= 0, stopped == nil else { return }
        let line = Array((JSON.object([("event", .string(event))] + fields).text + "\n").utf8)
        var done = 0
        while done < line.count {
            let n = line[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return fail(n < 0 ? String(cString: strerror(errno)) : "nothing written") }
            done += n
        }
        size += off_t(done)
    }

    /// Cuts the partial line off, says so once, and writes nothing more.
    private func fail(_ reason: String) {
        _ = ftruncate(fd, size)
        stopped = (step, reason)
        fputs("warning: --metrics \(path): cannot write at step \(step) (\(reason)); metrics stopped, training continues\n", stderr)
    }

    /// The summary's line about the log when it stopped early, nil otherwise.
    var stoppedLine: String? {
        stopped.map { "metrics stopped at step \($0.step) (\($0.reason)): --metrics \(path) holds the lines before it" }
    }
}
