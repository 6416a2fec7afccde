import Foundation
import XCTest

/// Shared by the tests that set up real faults: temporary directories and mounts that are
/// removed in tearDown, and the error lines lion-dist itself wrote.
class FaultTestCase: XCTestCase {
    static let fm = FileManager.default
    var cleanup: [() -> Void] = []

    override func tearDown() {
        for c in cleanup.reversed() { c() }
        cleanup = []
    }

    func temporaryDirectory() throws -> URL {
        let dir = try Launcher.temporaryDirectory()
        cleanup.append { try? Self.fm.removeItem(at: dir) }
        return dir
    }

    /// A real tmpfs (`options`, e.g. "size=3m" or "ro,size=1m") at a new directory, unmounted
    /// in tearDown; skips the test, saying why, where this machine does not allow mounting.
    func mountTmpfs(_ options: String) throws -> URL {
        let dir = try temporaryDirectory()
        let r = try Self.shell(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.path])
        if r != 0 { throw XCTSkip("cannot mount a tmpfs (-o \(options)) here (mount exit \(r): needs root or CAP_SYS_ADMIN); this case is untested") }
        cleanup.append { _ = try? Self.shell(["umount", dir.path]) }
        return dir
    }

    static func shell(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    func errorLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") }
    }

    func errorLines(_ r: Launcher.Result) -> [String] { errorLines(r.stderr) }
}
