import Foundation
import XCTest

/// The Python virtual environment `launch/setup` makes (numpy, safetensors, tensorboard from
/// PyPI): real readers of the files lion-dist writes. `LION_DIST_VENV` overrides where it is.
enum PythonVenv {
    static var shareDirectory: String {
        if access("/usr/local/share/lion-dist/venv/bin/python", X_OK) == 0 || access("/usr/local/share", W_OK) == 0 {
            return "/usr/local/share/lion-dist"
        }
        let env = ProcessInfo.processInfo.environment
        let xdg = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(env["HOME"] ?? "~")/.local/share"
        return "\(xdg)/lion-dist"
    }

    static var python: String {
        (ProcessInfo.processInfo.environment["LION_DIST_VENV"] ?? "\(shareDirectory)/venv") + "/bin/python"
    }

    /// The prepared Shakespeare corpus (where lion-dist finds it by default).
    static var corpus: String {
        for dir in ["/usr/local/share/lion-dist/shakespeare", "\(shareDirectory)/shakespeare"]
            where access("\(dir)/shakespeare.txt", R_OK) == 0 { return "\(dir)/shakespeare.txt" }
        return "/usr/local/share/lion-dist/shakespeare/shakespeare.txt"
    }

    /// Runs `script` (the file `module` beside it is importable) with `args`; fails the test
    /// when the environment is missing (launch/setup makes it).
    static func run(_ script: String, _ args: [String], module: String? = nil, in dir: URL) throws -> Launcher.Result {
        guard access(python, X_OK) == 0 else {
            XCTFail("no Python virtual environment at \(python): run launch/setup (it installs numpy, safetensors and tensorboard there)")
            return Launcher.Result(status: -1, stdout: "", stderr: "")
        }
        let file = dir.appendingPathComponent("script-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        if let module { try module.write(to: dir.appendingPathComponent("nanogpt_numpy.py"), atomically: true, encoding: .utf8) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [file.path] + args
        p.currentDirectoryURL = dir
        let out = dir.appendingPathComponent("py.out"), err = dir.appendingPathComponent("py.err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return Launcher.Result(status: p.terminationStatus,
                               stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                               stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
