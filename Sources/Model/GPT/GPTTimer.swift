#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall time per layer kind of the GPT's passes, summed over blocks and passes, forward and
/// backward apart (`lion-dist bench gpt`). Set `GPTWorkspace.timer` to collect; nil (the
/// default) costs one nil check per layer call. A backward's time includes what it recomputes
/// (the LayerNorm outputs, the GELU output).
public final class GPTTimer {
    /// The layer kinds, in forward order; `head` is ln_f's output times wte^T and the loss.
    public enum Layer: Int, CaseIterable, Sendable {
        case embedding, ln1, cAttn, attention, cProj, ln2, cFc, gelu, mlpProj, lnf, head
        /// bf16 only: narrowing the fp32 parameters into the products' bf16 copy, once per pass.
        case bf16Weights

        /// nanoGPT's names ("c_attn", "mlp.c_proj").
        public var name: String {
            switch self {
            case .embedding: return "embedding"
            case .ln1: return "ln_1"
            case .cAttn: return "c_attn"
            case .attention: return "attention"
            case .cProj: return "c_proj"
            case .ln2: return "ln_2"
            case .cFc: return "c_fc"
            case .gelu: return "gelu"
            case .mlpProj: return "mlp.c_proj"
            case .lnf: return "ln_f"
            case .head: return "head+loss"
            case .bf16Weights: return "bf16_weights"
            }
        }
    }

    public enum Pass: Int, Sendable { case forward, backward }

    /// Seconds per [pass][layer], accumulated since the last `reset`.
    public private(set) var seconds = [[Double]](repeating: [Double](repeating: 0, count: Layer.allCases.count), count: 2)

    public init() {}

    public func seconds(_ layer: Layer, _ pass: Pass) -> Double { seconds[pass.rawValue][layer.rawValue] }

    public func reset() {
        for p in seconds.indices { for l in seconds[p].indices { seconds[p][l] = 0 } }
    }

    func measure<R>(_ layer: Layer, _ pass: Pass, _ body: () throws -> R) rethrows -> R {
        let start = Self.now()
        defer { seconds[pass.rawValue][layer.rawValue] += Self.now() - start }
        return try body()
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

extension GPTWorkspace {
    /// `body`, timed as `layer` in `pass` when a timer is set.
    @inline(__always)
    func timed<R>(_ layer: GPTTimer.Layer, _ pass: GPTTimer.Pass, _ body: () throws -> R) rethrows -> R {
        guard let timer else { return try body() }
        return try timer.measure(layer, pass, body)
    }

    /// The same, timed only `when` (inside a parallel loop: on its first chunk's thread).
    @inline(__always)
    func timed<R>(_ layer: GPTTimer.Layer, _ pass: GPTTimer.Pass, when: Bool, _ body: () throws -> R) rethrows -> R {
        when ? try timed(layer, pass, body) : try body()
    }
}
