import Foundation
import XCTest

/// The Launcher refuses a binary older than the sources (no mpirun: plain files).
final class LauncherTests: XCTestCase {
    func testRefusesMissingAndStaleBinaryAcceptsFreshOne() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sources = dir.appendingPathComponent("Sources/Module")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let source = sources.appendingPathComponent("A.swift"), binary = dir.appendingPathComponent("bin")
        let root = dir.appendingPathComponent("Sources")

        XCTAssertEqual(Launcher.staleness(binary: binary.path, sources: root),
                       "no release binary at \(binary.path): run `swift build -c release` first")

        try Data("x".utf8).write(to: binary)
        try Data("y".utf8).write(to: source)
        let now = Date()
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-60)], ofItemAtPath: binary.path)
        try FileManager.default.setAttributes([.modificationDate: now], ofItemAtPath: source.path)
        let stale = try XCTUnwrap(Launcher.staleness(binary: binary.path, sources: root))
        XCTAssertTrue(stale.contains("older than \(source.path)"), stale)
        XCTAssertTrue(stale.contains("swift build -c release"), stale)

        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(60)], ofItemAtPath: binary.path)
        XCTAssertNil(Launcher.staleness(binary: binary.path, sources: root))
    }
}
