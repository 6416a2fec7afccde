import Foundation
import XCTest

/// Runs the release `lion-dist` binary for real: alone, or under `mpirun -n W`.
/// launch/test sets LION_DIST_BIN; otherwise the package's .build/release binary is used,
/// and only if it is newer than every source file.
enum Launcher {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// LION_DIST_BIN is trusted as set (launch/test builds right before setting it). The default
    /// binary must be newer than every file under Sources/: a stale one fails the test with a
    /// message that says to rebuild, instead of testing old code.
    static func binary() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["LION_DIST_BIN"] { return explicit }
        let path = packageRoot.appendingPathComponent(".build/release/lion-dist").path
        if let stale = staleness(binary: path) { throw StaleBinary(description: stale) }
        return path
    }

    struct StaleBinary: Error, CustomStringConvertible { let description: String }

    /// Why the binary at `path` cannot be used (missing, or older than a source file), or nil.
    static func staleness(binary path: String,
                          sources: URL = packageRoot.appendingPathComponent("Sources")) -> String? {
        let fm = FileManager.default
        guard let built = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else {
            return "no release binary at \(path): run `swift build -c release` first"
        }
        let keys: [URLResourceKey] = [.contentModificationDateKey, .isRegularFileKey]
        guard let files = fm.enumerator(at: sources, includingPropertiesForKeys: keys) else {
            return "cannot list \(sources.path)"
        }
        for case let url as URL in files {
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true,
                  let modified = values.contentModificationDate, modified > built else { continue }
            return "\(path) is older than \(url.path): run `swift build -c release` first"
        }
        return nil
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// `ranks == nil`: the binary alone (one rank, no mpirun). `env` is added to the
    /// environment of every rank (mpirun `-x NAME`). `mpirunPrefix` goes between mpirun's own
    /// options and the binary (more mpirun options, a wrapper command). `executable` replaces
    /// the lion-dist binary (the examples).
    ///
    /// mpirun waits `odls_base_sigkill_timeout` (1 s) between its SIGTERM and SIGKILL to the
    /// ranks of a job that failed, even when they have all exited already: a second or two on
    /// every failing launch. The tests look at what the ranks print and exit with before that,
    /// never at what a rank does in the grace, so it is 0 here. (CheckpointFaultTests starts its
    /// own mpirun with the default grace: its SIGTERM reaches the ranks through it.)
    static func run(ranks: Int?, _ arguments: [String], env extra: [String: String] = [:],
                    mpirunPrefix: [String] = [], executable: String? = nil,
                    timeout: TimeInterval = 300) throws -> Result {
        let binary = try executable ?? binary()
        let process = Process()
        var env = initialEnvironment.merging(extra) { $1 }
        if let ranks {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["mpirun", "-n", "\(ranks)", "--oversubscribe", "--mca", "odls_base_sigkill_timeout", "0"]
                + extra.keys.sorted().flatMap { ["-x", $0] } + mpirunPrefix + [binary] + arguments
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = env
        // Output goes to files, so no pipe can fill up and stall the job.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("lion-dist \(arguments) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// The environment this test process started with (/proc/self/environ), without what an
    /// in-process MPI singleton (the LionDist tests' `World.start()`) added (PMIX_*, OMPI_MCA_ess,
    /// ...): an mpirun started with those would think it runs inside this job and fail.
    static let initialEnvironment: [String: String] = {
        guard let data = FileManager.default.contents(atPath: "/proc/self/environ") else {
            return ProcessInfo.processInfo.environment
        }
        var env: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
        }
        return env
    }()

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lion-dist-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func readFloats(_ path: URL) throws -> [Float] {
        let data = try Data(contentsOf: path)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The JSON objects of a --metrics file, one per line.
    static func readMetrics(_ path: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}
