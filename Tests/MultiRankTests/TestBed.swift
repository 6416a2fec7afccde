import Foundation
import XCTest

/// The multi-node test bed of `scripts/nodes`: hosts node1..nodeK, each with its own network
/// namespace, hostname and tbf-limited link. `up` throws XCTSkip with the script's reason where
/// namespaces cannot be created (not root, no CAP_NET_ADMIN, no iproute2).
enum TestBed {
    static let script = Launcher.packageRoot.appendingPathComponent("scripts/nodes").path

    struct Output {
        let status: Int32
        let text: String   // stdout and stderr together
    }

    /// `scripts/nodes ARGS`, bounded by `timeout` (then terminated, and the test fails).
    static func nodes(_ arguments: [String], timeout: TimeInterval = 120) throws -> Output {
        try command(script, arguments, timeout: timeout)
    }

    /// Any command (a path, or a name looked up on the PATH), `env` added to this environment.
    static func command(_ executable: String, _ arguments: [String], env: [String: String] = [:],
                        timeout: TimeInterval = 120) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = Launcher.initialEnvironment.merging(env) { $1 }
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("\(executable) \(arguments) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      text: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "")
    }

    static func up(hosts: Int, rate: String) throws {
        guard getuid() == 0 else { throw XCTSkip("the test bed needs root (network namespaces); running as uid \(getuid())") }
        let r = try nodes(["up", "\(hosts)", "--rate", rate])
        if r.status != 0 {
            _ = try? nodes(["down"])
            throw XCTSkip("scripts/nodes up \(hosts) failed, so namespaces cannot be created here: \(r.text)")
        }
    }

    static func down() {
        guard let r = try? nodes(["down"]), r.status == 0 else {
            XCTFail("scripts/nodes down failed; run it by hand")
            return
        }
    }

    /// mpirun options for `Launcher.run(ranks:mpirunPrefix:)`: the launch agent and TCP settings
    /// of `scripts/nodes flags`, then `--host`, e.g. "node1:2,node2:2", and `more` (e.g. --map-by node).
    static func mpirunPrefix(hosts: String, _ more: [String] = []) throws -> [String] {
        let r = try nodes(["flags"])
        XCTAssertEqual(r.status, 0, r.text)
        return r.text.split(separator: "\n").map(String.init) + ["--host", hosts] + more
    }
}
