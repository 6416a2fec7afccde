import Foundation

/// Small helpers that build SVG as text. Every data mark carries `class="mark"` so a test
/// (or a person with a text editor) can tell a chart with data from an empty frame.
enum SVG {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    static func text(_ s: String, x: Double, y: Double, anchor: String = "middle", size: Int = 12,
                     weight: String = "normal", fill: String = "#222", rotate: Bool = false, extra: String = "") -> String {
        let transform = rotate ? " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" : ""
        return "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\"\(transform)\(extra)>\(escape(s))</text>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#888",
                     width: Double = 1, dash: String? = nil, cls: String? = nil) -> String {
        let d = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        let c = cls.map { " class=\"\($0)\"" } ?? ""
        return "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(d)\(c)/>"
    }

    static func rect(x: Double, y: Double, w: Double, h: Double, fill: String, cls: String? = nil,
                     stroke: String? = nil, tip: String? = nil) -> String {
        let c = cls.map { " class=\"\($0)\"" } ?? ""
        let s = stroke.map { " stroke=\"\($0)\"" } ?? ""
        let t = tip.map { "<title>\(escape($0))</title>" } ?? ""
        return "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(0, w)))\" height=\"\(f(max(0, h)))\" fill=\"\(fill)\"\(s)\(c)>\(t)</rect>"
    }

    static func circle(x: Double, y: Double, r: Double, fill: String, cls: String? = "mark", tip: String? = nil) -> String {
        let c = cls.map { " class=\"\($0)\"" } ?? ""
        let t = tip.map { "<title>\(escape($0))</title>" } ?? ""
        return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(fill)\"\(c)>\(t)</circle>"
    }

    static func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil,
                         cls: String = "mark") -> String {
        let d = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        let pts = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        return "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(d) class=\"\(cls)\"/>"
    }

    /// A whole chart: `<svg data-chart=NAME>` with a title line and the body.
    static func chart(name: String, width: Double, height: Double, title: String, body: [String]) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" data-chart="\(name)" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#fff"/>
        \(text(title, x: width / 2, y: 22, size: 15, weight: "bold"))
        \(body.joined(separator: "\n"))
        </svg>
        """
    }

    /// "no data" in the middle of a frame (and no marks, so checks flag the chart).
    static func empty(_ why: String, x: Double, y: Double) -> String {
        text("no data: \(why)", x: x, y: y, size: 13, fill: "#a00")
    }
}

/// Colours and names, the same in every chart: Lion orange, AdamW blue.
enum Palette {
    static func color(_ optimizer: String) -> String {
        switch optimizer {
        case "lion": return "#e4572e"
        case "adamw": return "#2e86ab"
        default: return "#666666"
        }
    }

    static func name(_ optimizer: String) -> String {
        switch optimizer {
        case "lion": return "Lion"
        case "adamw": return "AdamW"
        default: return optimizer
        }
    }

    /// Optimizers in a stable order: lion, adamw, then others alphabetically.
    static func order(_ names: Set<String>) -> [String] {
        names.sorted { a, b in
            let rank = ["lion": 0, "adamw": 1]
            return (rank[a] ?? 2, a) < (rank[b] ?? 2, b)
        }
    }

    /// Viridis-like ramp, t in [0, 1].
    static func ramp(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = min(1, max(0, t.isFinite ? t : 0)) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let u = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * u).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// A plot area inside a chart and its axes.
struct Frame {
    var left: Double, top: Double, width: Double, height: Double
    var right: Double { left + width }
    var bottom: Double { top + height }
}

/// A numeric axis mapping data to pixels, linear or log2/log10.
struct Axis {
    enum Kind { case linear, log }
    var kind: Kind
    var lo: Double, hi: Double
    var pixelLo: Double, pixelHi: Double

    func transform(_ v: Double) -> Double { kind == .log ? log10(max(v, 1e-300)) : v }

    func map(_ v: Double) -> Double {
        let a = transform(lo), b = transform(hi)
        let t = b == a ? 0.5 : (transform(v) - a) / (b - a)
        return pixelLo + t * (pixelHi - pixelLo)
    }

    /// "Nice" linear ticks (1, 2, 5 x 10^k steps), about `count` of them.
    static func niceTicks(lo: Double, hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 { ticks.append(t); t += step }
        return ticks
    }

    /// Padded [lo, hi] around values, snapped to nice steps.
    static func niceRange(_ values: [Double], pad: Double = 0.05) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard let mn = finite.min(), let mx = finite.max() else { return (0, 1) }
        let span = max(mx - mn, abs(mx) * 0.01, 1e-9)
        let ticks = niceTicks(lo: mn - span * pad, hi: mx + span * pad)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : span
        return (floor((mn - span * pad) / step) * step, ceil((mx + span * pad) / step) * step)
    }
}

/// Gridlines, tick labels and axis titles for a frame.
enum Axes {
    static func draw(frame: Frame, x: Axis, xTicks: [(Double, String)], xTitle: String,
                     y: Axis, yTicks: [(Double, String)], yTitle: String) -> [String] {
        var out: [String] = []
        for (v, label) in yTicks {
            let py = y.map(v)
            out.append(SVG.line(frame.left, py, frame.right, py, stroke: "#e3e3e3"))
            out.append(SVG.text(label, x: frame.left - 6, y: py + 4, anchor: "end", size: 11, fill: "#444"))
        }
        for (v, label) in xTicks {
            let px = x.map(v)
            out.append(SVG.line(px, frame.top, px, frame.bottom, stroke: "#f0f0f0"))
            out.append(SVG.text(label, x: px, y: frame.bottom + 16, size: 11, fill: "#444"))
        }
        out.append(SVG.line(frame.left, frame.bottom, frame.right, frame.bottom, stroke: "#333"))
        out.append(SVG.line(frame.left, frame.top, frame.left, frame.bottom, stroke: "#333"))
        out.append(SVG.text(xTitle, x: frame.left + frame.width / 2, y: frame.bottom + 36, size: 12))
        out.append(SVG.text(yTitle, x: frame.left - 46, y: frame.top + frame.height / 2, size: 12, rotate: true))
        return out
    }

    /// A legend row of coloured swatches at (x, y).
    static func legend(_ items: [(label: String, color: String, dash: String?)], x: Double, y: Double) -> [String] {
        var out: [String] = []
        var cx = x
        for item in items {
            out.append(SVG.line(cx, y - 4, cx + 22, y - 4, stroke: item.color, width: 3, dash: item.dash))
            out.append(SVG.text(item.label, x: cx + 27, y: y, anchor: "start", size: 12))
            cx += 40 + Double(item.label.count) * 7
        }
        return out
    }
}

/// Number labels.
enum Label {
    static func batch(_ b: Int) -> String {
        b >= 1024 && b % 1024 == 0 ? "\(b / 1024)K" : "\(b)"
    }

    static func sci(_ x: Double) -> String {
        guard x.isFinite, x != 0 else { return x == 0 ? "0" : "?" }
        let e = Int(floor(log10(abs(x)) + 1e-9))
        if e >= -2 && e <= 3 {
            let s = String(format: "%g", x)
            return s
        }
        let m = x / pow(10, Double(e))
        let ms = abs(m - m.rounded()) < 1e-6 ? "\(Int(m.rounded()))" : String(format: "%.1f", m)
        return "\(ms)e\(e)"
    }

    /// "4,551,478".
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func percent(_ x: Double, digits: Int = 1) -> String {
        x.isFinite ? String(format: "%.\(digits)f%%", x * 100) : "-"
    }

    static func mib(_ bytes: Double) -> String {
        let m = bytes / 1_048_576
        return m >= 100 ? String(format: "%.0f", m) : m >= 10 ? String(format: "%.1f", m) : String(format: "%.2f", m)
    }
}
