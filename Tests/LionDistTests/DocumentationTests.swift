import Foundation
import XCTest

/// The symbol pages in Documentation.docc/Symbols list the declarations of types the library
/// re-exports (DocC shows a typealias without its members): every declaration listed there must
/// still be a public declaration in Sources, so a renamed field or requirement fails here
/// instead of leaving a page that describes what no longer exists.
final class DocumentationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testSymbolPagesListRealDeclarations() throws {
        let sources = try swiftFiles(under: Self.root.appendingPathComponent("Sources"))
            .map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        let code = collapse(sources.replacingOccurrences(of: "public ", with: ""))
        let pages = Self.root.appendingPathComponent("Sources/LionDist/Documentation.docc/Symbols")
        let files = try FileManager.default.contentsOfDirectory(at: pages, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        XCTAssertGreaterThanOrEqual(files.count, 12)
        var checked = 0
        for file in files {
            for declaration in try declarations(in: String(contentsOf: file, encoding: .utf8)) {
                checked += 1
                XCTAssertTrue(code.contains(declaration), "\(file.lastPathComponent): `\(declaration)` is not declared in Sources")
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// The heads of the declaration lines of the pages' swift blocks: `let`/`var` with a type,
    /// `func`, `init`, `subscript`, up to the body or a stored property's default.
    func declarations(in page: String) -> [String] {
        var inBlock = false, heads: [String] = []
        let pattern = try! NSRegularExpression(pattern: #"^((static |convenience )?(func|init|subscript)\b|(let|var) \w+: )"#)
        for line in page.components(separatedBy: "\n") {
            if line.hasPrefix("```") { inBlock = line == "```swift"; continue }
            guard inBlock, pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil else { continue }
            var head = line.components(separatedBy: " {")[0]
            if head.hasPrefix("let ") || head.hasPrefix("var ") { head = head.components(separatedBy: " = ")[0] }
            heads.append(collapse(head))
        }
        return heads
    }

    func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    func swiftFiles(under directory: URL) throws -> [URL] {
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
    }
}
