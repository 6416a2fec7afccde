import Foundation

/// The metric (test accuracy; validation loss) vs global batch, one line per optimizer, each point the best run of the
/// lr x wd grid at that batch (the seed paper's batch-size ablation).
enum AccuracyChart {
    static func svg(_ study: Study) -> String {
        let width = 900.0, height = 430.0
        let frame = Frame(left: 80, top: 60, width: 780, height: 300)
        let batches = study.batches, m = study.metric
        var points: [String: [(batch: Int, run: SweepRecord)]] = [:]
        for o in study.optimizers {
            points[o] = batches.compactMap { b in study.best(o, batch: b).map { (b, $0) } }
                .filter { m.value($0.run).isFinite }
        }
        let values = points.values.flatMap { $0.map { m.value($0.run) } }
        guard !values.isEmpty, let lo = batches.first, let hi = batches.last else {
            return SVG.chart(name: "accuracy-vs-batch", width: width, height: height,
                             title: "\(m.title) vs global batch", body: [SVG.empty("no finished runs", x: width / 2, y: height / 2)])
        }
        let (ylo, yhi) = Axis.niceRange(values, pad: 0.15)
        let x = Axis(kind: .log, lo: Double(lo) / 1.4, hi: Double(hi) * 1.4, pixelLo: frame.left, pixelHi: frame.right)
        let y = Axis(kind: .linear, lo: ylo, hi: yhi, pixelLo: frame.bottom, pixelHi: frame.top)
        var body = Axes.draw(frame: frame, x: x, xTicks: batches.map { (Double($0), Label.batch($0)) },
                             xTitle: "global batch size (samples per step, log scale)",
                             y: y, yTicks: Axis.niceTicks(lo: ylo, hi: yhi).map { ($0, String(format: "%g", $0)) },
                             yTitle: m.axis)
        // At each batch the higher point is labelled above and the others below, so labels do not collide.
        var top: [Int: Double] = [:]
        for pts in points.values { for p in pts { top[p.batch] = max(top[p.batch] ?? -.infinity, m.value(p.run)) } }
        for o in study.optimizers {
            guard let pts = points[o], !pts.isEmpty else { continue }
            let color = Palette.color(o)
            body.append(SVG.polyline(pts.map { (x.map(Double($0.batch)), y.map(m.value($0.run))) }, stroke: color, width: 2.5))
            for p in pts {
                let px = x.map(Double(p.batch)), py = y.map(m.value(p.run))
                let tip = "\(Palette.name(o)) batch \(p.batch): \(m.text(p.run)) (lr \(Label.sci(p.run.lr)), wd \(Label.sci(p.run.weightDecay)))"
                body.append(SVG.circle(x: px, y: py, r: 5, fill: color, tip: tip))
                let above = m.value(p.run) >= (top[p.batch] ?? 0)
                body.append(SVG.text(String(format: m.format, m.value(p.run)), x: px, y: above ? py - 10 : py + 19,
                                     size: 11, weight: "bold", fill: color))
            }
        }
        body += Axes.legend(study.optimizers.map { ("\(Palette.name($0)) (best of its lr x wd grid)", Palette.color($0), nil) },
                            x: frame.left, y: 46)
        return SVG.chart(name: "accuracy-vs-batch", width: width, height: height,
                         title: "\(m.title) vs global batch (\(study.subject.budget(study.records)) each)", body: body)
    }
}
