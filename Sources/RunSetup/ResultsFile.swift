import Basics
import Foundation
import Report
import RunSchema
import Training

/// A sweep's results.jsonl read for the sweep's resume and for `lion-dist report`: text that is
/// not UTF-8 (a binary file, a truncated multi-byte character) is refused naming the file and
/// the line, like a malformed row.
public enum ResultsFile {
    /// The finished runs in `path`; none when it does not exist.
    public static func load(path: String) throws -> [SweepRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError("\(path): cannot read (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let bad = lines.firstIndex { String(data: Data($0), encoding: .utf8) == nil } ?? 0
            throw TrainingError("\(path) line \(bad + 1) is not UTF-8 text (is this a sweep's results.jsonl?); pass the --out directory of a `lion-dist sweep`")
        }
        return try SweepRecord.parse(text: text, source: path)
    }
}
