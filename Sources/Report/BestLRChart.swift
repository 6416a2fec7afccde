import Foundation

/// The best peak learning rate of each optimizer's grid against the global batch (both axes log):
/// a filled marker at the best cell, a hollow tick at every lr the grid tried there (at the grid
/// seed), so a best lr at the edge of its grid is visible as such.
enum BestLRChart {
    static func svg(_ study: Study) -> String {
        let width = 900.0, height = 400.0
        let frame = Frame(left: 90, top: 60, width: 770, height: 270)
        let batches = study.batches, opts = study.optimizers
        let lrs = study.gridRecords.map(\.lr).filter { $0 > 0 && $0.isFinite }
        guard let lo = batches.first, let hi = batches.last, let lrLo = lrs.min(), let lrHi = lrs.max() else {
            return SVG.chart(name: "best-lr-vs-batch", width: width, height: height, title: "Best learning rate vs global batch",
                             body: [SVG.empty("no finished runs", x: width / 2, y: height / 2)])
        }
        let x = Axis(kind: .log, lo: Double(lo) / 1.5, hi: Double(hi) * 1.5, pixelLo: frame.left, pixelHi: frame.right)
        let y = Axis(kind: .log, lo: lrLo / 1.6, hi: lrHi * 1.6, pixelLo: frame.bottom, pixelHi: frame.top)
        let decades = Int(floor(log10(lrLo / 1.6)))...Int(ceil(log10(lrHi * 1.6)))
        let yTicks = decades.flatMap { e in [1.0, 3.0].map { $0 * pow(10, Double(e)) } }
            .filter { $0 >= lrLo / 1.6 && $0 <= lrHi * 1.6 }.map { ($0, Label.sci($0)) }
        var body = Axes.draw(frame: frame, x: x, xTicks: batches.map { (Double($0), Label.batch($0)) },
                             xTitle: "global batch size (log scale)", y: y, yTicks: yTicks,
                             yTitle: "peak learning rate (log scale)")
        for (k, o) in opts.enumerated() {
            let color = Palette.color(o), shift = (Double(k) - Double(opts.count - 1) / 2) * 10
            var line: [(Double, Double)] = []
            for b in batches {
                let px = x.map(Double(b)) + shift
                for lr in Set(study.runs(o, batch: b).map(\.lr)).sorted() {
                    body.append(SVG.line(px - 5, y.map(lr), px + 5, y.map(lr), stroke: color, width: 1.5))
                }
                guard let best = study.best(o, batch: b), study.metric.value(best).isFinite else { continue }
                let py = y.map(best.lr)
                line.append((px, py))
                body.append(SVG.circle(x: px, y: py, r: 5, fill: color,
                                       tip: "\(Palette.name(o)) batch \(b): best lr \(Label.sci(best.lr)) (wd \(Label.sci(best.weightDecay))): \(study.metric.text(best))"))
            }
            body.append(SVG.polyline(line, stroke: color, width: 2))
        }
        body += Axes.legend(opts.map { ("\(Palette.name($0)): best lr (dot), lrs tried (ticks)", Palette.color($0), nil) },
                            x: frame.left, y: 46)
        return SVG.chart(name: "best-lr-vs-batch", width: width, height: height,
                         title: "Best peak learning rate vs global batch", body: body)
    }
}
