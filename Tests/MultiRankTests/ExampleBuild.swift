import Foundation
import XCTest

/// Builds the packages in Examples/ against the `LionDist` library product (by path, as a user would).
enum ExampleBuild {
    struct BuildFailure: Error, CustomStringConvertible { let text: String; var description: String { text } }

    /// Builds Examples/`name` in release mode and returns its executable. The examples share one
    /// scratch folder (Examples/.build), so lion-dist is compiled for them once, not once each.
    /// LION_DIST_EXAMPLES (launch/test builds them all before setting it) is trusted as set: the
    /// executables in that folder, no build.
    static func build(_ name: String) throws -> String {
        if let built = ProcessInfo.processInfo.environment["LION_DIST_EXAMPLES"] {
            return URL(fileURLWithPath: built).appendingPathComponent(name).path
        }
        return try build(package: Launcher.packageRoot.appendingPathComponent("Examples/\(name)"), product: name)
    }

    /// Builds the package at `dir` (any folder: the getting-started article's program is written
    /// to a temporary one) in the examples' scratch folder and returns its executable `product`.
    static func build(package dir: URL, product name: String) throws -> String {
        let scratch = Launcher.packageRoot.appendingPathComponent("Examples/.build")
        // SwiftPM can keep a stale build plan after lion-dist's own files moved (a pull, a
        // merge); the second attempt re-plans, so one retry.
        var output = ""
        for _ in 0..<2 {
            let (status, text) = try swiftBuild(dir, scratch: scratch)
            if status == 0 { return scratch.appendingPathComponent("release/\(name)").path }
            output = text
        }
        throw BuildFailure(text: "swift build \(name) failed:\n\(output.suffix(3000))")
    }

    static func swiftBuild(_ dir: URL, scratch: URL) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "-c", "release", "--package-path", dir.path, "--scratch-path", scratch.path]
        process.environment = Launcher.initialEnvironment
        let log = try Launcher.temporaryDirectory().appendingPathComponent("build.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
