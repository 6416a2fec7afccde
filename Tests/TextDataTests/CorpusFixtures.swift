import Foundation
import XCTest
import TextData

/// The prepared corpus, or a skip that says why it is absent.
func realCorpusPath() throws -> String {
    let path = "\(ShakespeareCorpus.defaultDirectory)/\(ShakespeareCorpus.fileName)"
    guard FileManager.default.fileExists(atPath: path) else {
        throw XCTSkip("\(path) not found: launch/setup has not prepared the Shakespeare corpus on this machine")
    }
    return path
}

/// The prepared corpus, loaded once per test process (or a skip that says why it is absent).
func realCorpus() throws -> ShakespeareCorpus {
    _ = try realCorpusPath()
    return try loadedRealCorpus.get()
}

private let loadedRealCorpus = Result { try ShakespeareCorpus.load(directory: ShakespeareCorpus.defaultDirectory) }

/// The prepared corpus's 84 characters, in order.
let shakespeareCharacters = "\n !\"&'()*,-./0123456789:;?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz{}"

/// A fresh empty directory under the temporary directory, removed by the test's teardown.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("textdata-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

/// The bytes a damaged copy starts from: the real prepared file where it exists, else a
/// stand-in of the same size that cycles through the same 84 characters (so `load` accepts it).
func pristineCorpusBytes() throws -> [UInt8] {
    let path = "\(ShakespeareCorpus.defaultDirectory)/\(ShakespeareCorpus.fileName)"
    if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
    let symbols = Array(shakespeareCharacters.utf8)
    return (0..<ShakespeareCorpus.expectedBytes).map { symbols[($0 * 7919) % symbols.count] }
}

/// A small corpus of random text over `alphabet` (for sampler tests that need no file).
func syntheticCorpus(count: Int, alphabet: String = "abcdefgh \n", seed: UInt64 = 7) -> ShakespeareCorpus {
    let symbols = Array(alphabet.utf8)
    var state = seed
    let bytes = (0..<count).map { _ -> UInt8 in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return symbols[Int(state >> 33) % symbols.count]
    }
    return ShakespeareCorpus(bytes: bytes)
}
