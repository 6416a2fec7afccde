import Foundation

/// Loss at each evaluation (an epoch of the MLP, an evaluation interval of the GPT) of each
/// optimizer's best run at every batch size: one small panel per batch, train loss solid,
/// evaluation loss (test set; validation split) dashed, one shared y scale.
enum LossChart {
    static func svg(_ study: Study) -> String {
        let batches = study.batches, s = study.subject
        let panels = max(batches.count, 1)
        let panelWidth = max(170, min(260, 860 / Double(panels)))
        let width = max(900, 80 + panelWidth * Double(panels) + 20), height = 360.0
        let title = "Loss per \(s.periodAxis), best run per optimizer and batch"
        var series: [(batch: Int, optimizer: String, run: SweepRecord)] = []
        for b in batches {
            for o in study.optimizers { if let r = study.best(o, batch: b), !r.perEpoch.isEmpty { series.append((b, o, r)) } }
        }
        let losses = series.flatMap { $0.run.perEpoch.flatMap { [$0.trainLoss, $0.testLoss] } }.filter(\.isFinite)
        guard !losses.isEmpty else {
            return SVG.chart(name: "loss-curves", width: width, height: height, title: title,
                             body: [SVG.empty("no evaluations recorded", x: width / 2, y: height / 2)])
        }
        let (ylo, yhi) = Axis.niceRange(losses, pad: 0.05)
        let xs = series.flatMap { $0.run.perEpoch.map(s.periodX) }
        let xlo = xs.min() ?? 1, xhi = max(xs.max() ?? 1, xlo + 1)
        var body: [String] = []
        for (k, b) in batches.enumerated() {
            let frame = Frame(left: 80 + Double(k) * panelWidth, top: 70, width: panelWidth - 30, height: 210)
            let x = Axis(kind: .linear, lo: xlo, hi: xhi, pixelLo: frame.left, pixelHi: frame.right)
            let y = Axis(kind: .linear, lo: max(ylo, 0), hi: yhi, pixelLo: frame.bottom, pixelHi: frame.top)
            let xTicks = Axis.niceTicks(lo: xlo, hi: xhi, count: 3).filter { $0 >= xlo && $0 == $0.rounded() }
            var axes = Axes.draw(frame: frame, x: x, xTicks: xTicks.map { ($0, "\(Int($0))") }, xTitle: s.periodAxis,
                                 y: y, yTicks: Axis.niceTicks(lo: max(ylo, 0), hi: yhi, count: 4).map { ($0, String(format: "%g", $0)) },
                                 yTitle: k == 0 ? "cross-entropy loss (\(s.lossUnit))" : "")
            if k > 0 { axes.removeLast() }
            body += axes
            body.append(SVG.text("batch \(Label.batch(b))", x: frame.left + frame.width / 2, y: frame.top - 8, size: 13, weight: "bold"))
            for run in series where run.batch == b {
                let color = Palette.color(run.optimizer)
                let train = run.run.perEpoch.filter { $0.trainLoss.isFinite }.map { (x.map(s.periodX($0)), y.map($0.trainLoss)) }
                let eval = run.run.perEpoch.filter { $0.testLoss.isFinite }.map { (x.map(s.periodX($0)), y.map($0.testLoss)) }
                if train.count == 1 { body.append(SVG.circle(x: train[0].0, y: train[0].1, r: 3, fill: color)) }
                if !train.isEmpty { body.append(SVG.polyline(train, stroke: color, width: 2)) }
                if !eval.isEmpty { body.append(SVG.polyline(eval, stroke: color, width: 2, dash: "5 3")) }
            }
        }
        var legend: [(label: String, color: String, dash: String?)] = []
        for o in study.optimizers {
            legend.append(("\(Palette.name(o)) train", Palette.color(o), nil))
            legend.append(("\(Palette.name(o)) \(s.evalSplit)", Palette.color(o), "5 3"))
        }
        body += Axes.legend(legend, x: 80, y: 46)
        body.append(SVG.text("each panel: the best lr x wd run of each optimizer at that batch (train loss: \(s.trainLossMeaning))",
                             x: 80, y: height - 12, anchor: "start", size: 11, fill: "#555"))
        return SVG.chart(name: "loss-curves", width: width, height: height, title: title, body: body)
    }
}
