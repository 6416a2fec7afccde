import Foundation
import XCTest

/// The getting-started article (Sources/LionDist/Documentation.docc/GettingStarted.md) is the
/// library's one program in prose: its first Swift block is a Package.swift, the others, in
/// order, are its main.swift. Both are written out as they stand, built against the `LionDist`
/// product (by path, as a user would) and run under mpirun, so the article cannot drift from the API.
final class GettingStartedTests: XCTestCase {
    static let article = Launcher.packageRoot.appendingPathComponent("Sources/LionDist/Documentation.docc/GettingStarted.md")

    /// The bodies of the ```swift blocks of a Markdown text, in order.
    static func swiftBlocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    func testArticleProgramBuildsAndLearnsOnTwoRanks() throws {
        let blocks = Self.swiftBlocks(try String(contentsOf: Self.article, encoding: .utf8))
        let dependency = #"path: "../lion-dist""#
        guard let manifest = blocks.first, manifest.hasPrefix("// swift-tools-version"), manifest.contains(dependency) else {
            return XCTFail("the article's first Swift block should be a Package.swift depending on \(dependency): \(blocks.first ?? "none")")
        }
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let package = dir.appendingPathComponent("MyTrainer"), sources = package.appendingPathComponent("Sources/MyTrainer")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        try manifest.replacingOccurrences(of: dependency, with: "path: \"\(Launcher.packageRoot.path)\"")
            .write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try blocks.dropFirst().joined(separator: "\n\n")
            .write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        let exe = try ExampleBuild.build(package: package, product: "MyTrainer")

        // Run in `dir`, where the program writes its ckpt/ folder.
        let r = try Launcher.run(ranks: 2, [], mpirunPrefix: ["--wdir", dir.path], executable: exe)
        XCTAssertEqual(r.status, 0, r.stderr)
        let losses = r.stdout.split(separator: "\n").compactMap { line -> Double? in
            let words = line.split(separator: " ")
            return words.count == 4 && words[0] == "step" && words[2] == "loss" ? Double(words[3]) : nil
        }
        XCTAssertEqual(losses.count, 4, r.stdout)   // steps 0, 50, 100, 150
        guard let first = losses.first, let last = losses.last else { return }
        XCTAssertLessThan(last, first / 10, "the article's loop should learn the rule: \(losses)")
        XCTAssertTrue(r.stdout.contains("state of 2 tensors"), r.stdout)
        let saved = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("ckpt").path)
        XCTAssertTrue(saved.contains { $0.hasSuffix(".lion") }, "no checkpoint in ckpt/: \(saved)")
    }
}
