import ArgumentParser
import Foundation
import Report
import RunSetup
import Training

/// `lion-dist report DIR -o report.html`: one self-contained HTML page (inline SVG, no
/// network, no JavaScript) from a sweep's results. Needs no MPI.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a sweep's DIR/results.jsonl as one self-contained HTML file (no mpirun needed).")

    @Argument(help: "The sweep's --out directory (or its results.jsonl).")
    var directory: String

    @Option(name: [.short, .customLong("output")], help: "The HTML file to write.")
    var output: String = "report.html"

    @Option(help: "Global batch for the lr x wd heatmaps (default: the batch size with the most runs, the middle one on a tie).")
    var heatmapBatch: Int?

    @Option(help: "Also write the best-run and grid-spread tables as Markdown to this file.")
    var markdown: String?

    @Option(help: "The page's title.")
    var title: String = "Lion vs AdamW: large-batch study"

    func run() throws {
        let path = directory.hasSuffix(".jsonl") ? directory : directory + "/results.jsonl"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path) does not exist; pass the --out directory of a `lion-dist sweep`")
        }
        let records = try ResultsFile.load(path: path)
        if records.isEmpty { throw ValidationError("\(path) holds no finished runs yet; let the sweep finish a cell first") }
        if let heatmapBatch, !records.contains(where: { $0.globalBatch == heatmapBatch }) {
            let sizes = Set(records.map(\.globalBatch)).sorted().map(String.init).joined(separator: ", ")
            throw ValidationError("--heatmap-batch \(heatmapBatch) has no runs; choose one of \(sizes)")
        }
        let html = HTMLReport(records: records, title: title, heatmapBatch: heatmapBatch).html()
        do { try html.write(toFile: output, atomically: true, encoding: .utf8) } catch {
            throw ValidationError("-o \(output): cannot write (\(error.localizedDescription)); choose a writable path")
        }
        if let markdown {
            do { try MarkdownSummary.text(records).write(toFile: markdown, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("--markdown \(markdown): cannot write (\(error.localizedDescription)); choose a writable path")
            }
        }
        print("report: \(records.count) runs -> \(output)")
    }
}
