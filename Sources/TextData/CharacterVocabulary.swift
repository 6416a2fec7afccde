/// The characters of a byte-level corpus, sorted, and the token ids that index them.
///
/// Token id `i` is the `i`-th smallest distinct byte of the text, so ids are dense in
/// `0..<count` and the mapping depends only on which bytes occur, not on their order.
public struct CharacterVocabulary: Sendable, Equatable {
    /// The distinct bytes, ascending; `symbols[id]` is the byte of token `id`.
    public let symbols: [UInt8]
    /// `ids[byte]` is the token id of `byte`, or -1 when the byte is not in the vocabulary.
    private let ids: [Int16]

    /// The vocabulary of `text`: every byte that occurs in it (the 5 MB corpus in ~20 ms, -O).
    public init(of text: [UInt8]) {
        var seen = [Bool](repeating: false, count: 256)
        seen.withUnsafeMutableBufferPointer { seen in
            text.withUnsafeBufferPointer { text in
                for b in text { seen[Int(b)] = true }
            }
        }
        self.init(symbols: (0..<256).filter { seen[$0] }.map { UInt8($0) })
    }

    /// A vocabulary of the given bytes (sorted and deduplicated here).
    public init(symbols: [UInt8]) {
        let sorted = Array(Set(symbols)).sorted()
        var ids = [Int16](repeating: -1, count: 256)
        for (id, b) in sorted.enumerated() { ids[Int(b)] = Int16(id) }
        self.symbols = sorted
        self.ids = ids
    }

    /// Number of distinct characters (the model's vocabulary size).
    public var count: Int { symbols.count }

    /// Token ids of bytes that all occur in the vocabulary (as those of the text it was made of).
    func ids(ofKnown bytes: ArraySlice<UInt8>) -> [UInt16] {
        ids.withUnsafeBufferPointer { table in
            bytes.map { b -> UInt16 in
                let id = table[Int(b)]
                precondition(id >= 0, "byte \(b) is not in the vocabulary")
                return UInt16(id)
            }
        }
    }

    /// The token id of `byte`, or nil when the corpus never uses it.
    public func id(of byte: UInt8) -> UInt16? {
        let id = ids[Int(byte)]
        return id < 0 ? nil : UInt16(id)
    }

    /// Token ids of `text` (its UTF-8 bytes); a character the corpus never uses is an error
    /// that names it, e.g. for a `--prompt` holding characters outside the vocabulary.
    public func encode(_ text: String) throws -> [UInt16] {
        var out = [UInt16]()
        out.reserveCapacity(text.utf8.count)
        for (offset, b) in text.utf8.enumerated() {
            guard let id = id(of: b) else {
                let shown = b < 0x80 && b >= 0x20 ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16, uppercase: true))"
                throw TextDataError("text: \(shown) at byte offset \(offset) is not one of the corpus's \(count) characters; use only characters that occur in the training text")
            }
            out.append(id)
        }
        return out
    }

    /// The text of `tokens`; every id must be below `count`.
    public func decode<Tokens: Collection>(_ tokens: Tokens) -> String where Tokens.Element == UInt16 {
        let bytes = tokens.map { id -> UInt8 in
            precondition(Int(id) < symbols.count, "token id \(id) not in 0..<\(symbols.count)")
            return symbols[Int(id)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
