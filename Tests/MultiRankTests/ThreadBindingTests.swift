import Foundation
import XCTest

/// Threads under mpirun's binding (issue 10): OpenMPI binds each rank to one core by default
/// when it starts 2 ranks or fewer; lion-dist widens that to the rank's share of the cores
/// mpirun may use, and warns (naming the fix) when the one-core binding was asked for.
final class ThreadBindingTests: XCTestCase {
    /// CPUs this test (and so mpirun) may use, as `nproc` counts them.
    func cpusAvailable() throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nproc")
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return try XCTUnwrap(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    let quick = ["--hidden", "32", "--max-steps", "2", "--log-interval", "1000"]

    func summary(_ metrics: URL) throws -> [String: Any] {
        try XCTUnwrap(Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" })
    }

    func testDefaultOneCoreBindingIsWidenedToTheRanksShare() throws {
        let cpus = try cpusAvailable()
        try XCTSkipIf(cpus < 2, "needs a machine with more CPUs than ranks")
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("m.jsonl")
        // One rank, no --bind-to: OpenMPI binds it to one core.
        let r = try Launcher.run(ranks: 1, quick + ["--metrics", metrics.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("threads: mpirun's default binding left \(cpus - 1) of this node's \(cpus) cores idle"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 rank(s) on 1 host(s), \(cpus) thread(s) per rank"), r.stdout)
        XCTAssertEqual(try summary(metrics)["threads_per_rank"] as? Int, cpus)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
    }

    func testExplicitOneCoreBindingIsKeptWithOneWarningNamingTheFix() throws {
        let cpus = try cpusAvailable()
        try XCTSkipIf(cpus < 2, "needs a machine with more CPUs than ranks")
        let r = try Launcher.run(ranks: 1, quick, mpirunPrefix: ["--bind-to", "core"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning") }
        XCTAssertEqual(warnings.count, 1, r.stderr)
        XCTAssertTrue(warnings.first?.contains("--map-by slot:PE=\(cpus)") ?? false, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 thread(s) per rank"), r.stdout)
        XCTAssertFalse(r.stdout.contains("threads: mpirun's default binding"), r.stdout)
    }

    func testBindingThatCoversTheNodeIsLeftAlone() throws {
        let cpus = try cpusAvailable()
        let r = try Launcher.run(ranks: 1, quick, mpirunPrefix: ["--bind-to", "none"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(cpus) thread(s) per rank"), r.stdout)
        XCTAssertFalse(r.stdout.contains("threads: mpirun"), r.stdout)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
    }

    /// W = 1 communicates nothing: the summary line says so, and --metrics holds zeros.
    func testOneRankReportsNoCommunicationTime() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (ranks, comm) in [(nil, "reduce-scatter"), (1, "allreduce"), (2, "reduce-scatter")] as [(Int?, String)] {
            let metrics = dir.appendingPathComponent("m-\(ranks ?? 0)-\(comm).jsonl")
            let r = try Launcher.run(ranks: ranks, quick + ["--max-steps", "5", "--comm", comm, "--metrics", metrics.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let seconds = try XCTUnwrap(summary(metrics)["step_seconds"] as? [String: Double])
            if ranks == 2 {
                XCTAssertGreaterThan(try XCTUnwrap(seconds["comm_total"]), 0, "\(seconds)")
                XCTAssertTrue(r.stdout.contains("ms exposed"), r.stdout)
            } else {
                XCTAssertEqual(seconds["comm_total"], 0, "\(ranks.map(String.init) ?? "no mpirun") \(comm): \(seconds)")
                XCTAssertEqual(seconds["comm_exposed"], 0, "\(seconds)")
                XCTAssertTrue(r.stdout.contains("; no communication (1 rank)"), r.stdout)
                XCTAssertFalse(r.stdout.contains("buckets overlapped"), r.stdout)
            }
        }
    }
}
