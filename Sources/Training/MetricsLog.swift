import Foundation

/// `--metrics FILE`: JSON Lines written by rank 0, flushed per line so a killed run keeps
/// what it logged. Events and keys are documented in README ("Metrics").
public final class MetricsLog {
    private let handle: FileHandle?

    /// nil path: a log that drops everything (other ranks, or no --metrics). `append` (a
    /// resumed run) continues an existing file instead of starting it afresh.
    public init(path: String?, append: Bool = false) throws {
        guard let path else { handle = nil; return }
        let exists = append && FileManager.default.fileExists(atPath: path)
        guard exists || FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw TrainingError("--metrics \(path): cannot create the file; check that its directory exists and is writable")
        }
        if exists { h.seekToEndOfFile() }
        handle = h
    }

    deinit { try? handle?.close() }

    public func write(_ event: String, _ fields: [(String, JSON)]) {
        guard let handle else { return }
        let line = JSON.object([("event", .string(event))] + fields).text + "\n"
        handle.write(Data(line.utf8))
    }
}
