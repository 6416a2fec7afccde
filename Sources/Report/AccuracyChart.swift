import Foundation

/// The metric (test accuracy; validation loss) vs global batch, one line per optimizer, each point the best run of the
/// lr x wd grid at that batch (the seed paper's batch-size ablation); where the best cell was rerun with other seeds,
/// the point is the reruns' mean and a bar spans their range.
enum AccuracyChart {
    static func svg(_ study: Study) -> String {
        let width = 900.0, height = 430.0
        let frame = Frame(left: 80, top: 60, width: 780, height: 300)
        let batches = study.batches, m = study.metric
        typealias Point = (batch: Int, value: Double, run: SweepRecord, seeds: SeedSpread?)
        var points: [String: [Point]] = [:]
        for o in study.optimizers {
            points[o] = batches.compactMap { b -> Point? in
                guard let run = study.best(o, batch: b), let v = study.plotted(o, batch: b), v.isFinite else { return nil }
                return (b, v, run, study.seedSpread(o, batch: b))
            }
        }
        let values = points.values.flatMap { $0.flatMap { [$0.value, $0.seeds?.min ?? $0.value, $0.seeds?.max ?? $0.value] } }
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
        for pts in points.values { for p in pts { top[p.batch] = max(top[p.batch] ?? -.infinity, p.value) } }
        for o in study.optimizers {
            guard let pts = points[o], !pts.isEmpty else { continue }
            let color = Palette.color(o)
            body.append(SVG.polyline(pts.map { (x.map(Double($0.batch)), y.map($0.value)) }, stroke: color, width: 2.5))
            for p in pts {
                let px = x.map(Double(p.batch)), py = y.map(p.value)
                var tip = "\(Palette.name(o)) batch \(p.batch): \(m.text(p.run)) (lr \(Label.sci(p.run.lr)), wd \(Label.sci(p.run.weightDecay)))"
                if let s = p.seeds {
                    body.append(SVG.line(px, y.map(s.min), px, y.map(s.max), stroke: color, width: 2))
                    tip += String(format: "; %d reruns: mean \(m.format), sd %.4f, range \(m.format)-\(m.format)", s.count, s.mean, s.sd, s.min, s.max)
                }
                body.append(SVG.circle(x: px, y: py, r: 5, fill: color, tip: tip))
                let above = p.value >= (top[p.batch] ?? 0)
                body.append(SVG.text(String(format: m.format, p.value), x: px, y: above ? py - 10 : py + 19,
                                     size: 11, weight: "bold", fill: color))
            }
        }
        let seeded = points.values.contains { $0.contains { $0.seeds != nil } }
        let what = seeded ? "best cell of its lr x wd grid: mean and range over its reruns" : "best of its lr x wd grid"
        body += Axes.legend(study.optimizers.map { ("\(Palette.name($0)) (\(what))", Palette.color($0), nil) },
                            x: frame.left, y: 46)
        return SVG.chart(name: "accuracy-vs-batch", width: width, height: height,
                         title: "\(m.title) vs global batch (\(study.subject.budget(study.records)) each)", body: body)
    }
}
