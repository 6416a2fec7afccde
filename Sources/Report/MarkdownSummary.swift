import Foundation

/// The best-run table and the heatmap spreads as Markdown (`lion-dist report --markdown FILE`),
/// for pasting into docs: the same numbers the HTML page shows.
public enum MarkdownSummary {
    public static func text(_ records: [SweepRecord]) -> String {
        let study = Study(records)
        let opts = study.optimizers
        var lines: [String] = []
        var head = "| global batch | steps |"
        var rule = "| ---: | ---: |"
        for o in opts { head += " \(Palette.name(o)) best | lr, wd |"; rule += " ---: | :--- |" }
        if opts.count >= 2 { head += " \(Palette.name(opts[0])) - \(Palette.name(opts[1])) (points) |"; rule += " ---: |" }
        lines += [head, rule]
        for b in study.batches {
            let bests = opts.map { study.best($0, batch: b) }
            let top = bests.compactMap { $0?.testAccuracy }.filter(\.isFinite).max()
            var row = "| \(b) | \(bests.compactMap { $0?.steps }.first ?? 0) |"
            for r in bests {
                guard let r else { row += " - | - |"; continue }
                let acc = Label.percent(r.testAccuracy, digits: 2)
                row += " \(r.testAccuracy == top ? "**\(acc)**" : acc) | \(Label.sci(r.lr)), \(Label.sci(r.weightDecay)) |"
            }
            if opts.count >= 2 {
                if let a = bests[0]?.testAccuracy, let c = bests[1]?.testAccuracy, a.isFinite, c.isFinite {
                    row += String(format: " %+.2f |", (a - c) * 100)
                } else { row += " - |" }
            }
            lines.append(row)
        }
        lines.append("")
        lines.append("| global batch | " + opts.map { "\(Palette.name($0)): spread (best - worst, points); runs within 1 point of its best" }.joined(separator: " | ") + " |")
        lines.append("| ---: |" + String(repeating: " ---: |", count: opts.count))
        for b in study.batches {
            let spreads = opts.map { o -> String in
                let accs = study.runs(o, batch: b).map { $0.testAccuracy * 100 }.filter(\.isFinite)
                guard let hi = accs.max(), let lo = accs.min() else { return "-" }
                return String(format: "%.2f; %d of %d", hi - lo, accs.filter { $0 >= hi - 1 }.count, accs.count)
            }
            lines.append("| \(b) | " + spreads.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
