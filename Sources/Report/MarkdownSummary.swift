import Foundation
import RunSchema

/// The best-run table and the heatmap spreads as Markdown (`lion-dist report --markdown FILE`),
/// for pasting into docs: the same numbers the HTML page shows.
public enum MarkdownSummary {
    /// One pair of tables per model shape and data set (titled when the file holds several).
    public static func text(_ records: [SweepRecord]) -> String {
        let parts = Study.parts(records)
        return parts.map { (parts.count > 1 ? "### \($0.subject.title)\n\n" : "") + text($0) }.joined(separator: "\n")
    }

    static func text(_ study: Study) -> String {
        let opts = study.optimizers
        var lines: [String] = []
        var head = "| global batch | steps |"
        var rule = "| ---: | ---: |"
        for o in opts { head += " \(Palette.name(o)) best \(study.metric.title.lowercased()) | lr, wd |"; rule += " ---: | :--- |" }
        if opts.count >= 2 { head += " \(Palette.name(opts[0])) - \(Palette.name(opts[1])) (\(study.metric.unit), + is better) |"; rule += " ---: |" }
        lines += [head, rule]
        for b in study.batches {
            let bests = opts.map { study.best($0, batch: b) }
            let top = bests.compactMap { $0.map(study.metric.score) }.filter(\.isFinite).max()
            var row = "| \(b) | \(bests.compactMap { $0?.steps }.first ?? 0) |"
            for r in bests {
                guard let r else { row += " - | - |"; continue }
                let acc = study.metric.text(r)
                row += " \(study.metric.score(r) == top ? "**\(acc)**" : acc) | \(Label.sci(r.lr)), \(Label.sci(r.weightDecay)) |"
            }
            if opts.count >= 2 {
                if let a = bests[0], let c = bests[1], study.metric.advantage(a, over: c).isFinite {
                    row += String(format: " %+\(study.metric.differenceFormat.dropFirst()) |", study.metric.advantage(a, over: c))
                } else { row += " - |" }
            }
            lines.append(row)
        }
        lines.append("")
        let m = study.metric
        lines += seedTable(study)
        lines.append("| global batch | " + opts.map { "\(Palette.name($0)): spread (best - worst, \(m.unit)); runs within \(m.near) of its best" }.joined(separator: " | ") + " |")
        lines.append("| ---: |" + String(repeating: " ---: |", count: opts.count))
        for b in study.batches {
            let spreads = opts.map { o -> String in
                let scores = study.runs(o, batch: b).map(m.score).filter(\.isFinite)
                guard let hi = scores.max(), let lo = scores.min() else { return "-" }
                return String(format: "\(m.differenceFormat); %d of %d", hi - lo, scores.filter { $0 >= hi - m.near }.count, scores.count)
            }
            lines.append("| \(b) | " + spreads.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The best cells' reruns (other seeds than the grid's): mean ± sample sd (n; range), and the
    /// difference of the first two optimizers' means. Nothing when no cell was rerun.
    static func seedTable(_ study: Study) -> [String] {
        let opts = study.optimizers, m = study.metric
        guard study.batches.contains(where: { b in opts.contains { study.seedSpread($0, batch: b) != nil } }) else { return [] }
        var head = "| global batch |", rule = "| ---: |"
        for o in opts { head += " \(Palette.name(o)) best cell, reruns: mean ± sd (n; range) |"; rule += " ---: |" }
        if opts.count >= 2 { head += " \(Palette.name(opts[0])) - \(Palette.name(opts[1])) (means, \(m.unit), + is better) |"; rule += " ---: |" }
        var lines = [head, rule]
        for b in study.batches {
            let spreads = opts.map { study.seedSpread($0, batch: b) }
            var row = "| \(b) |"
            for s in spreads {
                row += s.map { String(format: " %.4f ± %.4f (%d; %.4f-%.4f) |", $0.mean, $0.sd, $0.count, $0.min, $0.max) } ?? " - |"
            }
            if opts.count >= 2 {
                if let a = spreads[0], let c = spreads[1] {
                    row += String(format: " %+.4f |", m.higherIsBetter ? a.mean - c.mean : c.mean - a.mean)
                } else { row += " - |" }
            }
            lines.append(row)
        }
        return lines + [""]
    }
}
