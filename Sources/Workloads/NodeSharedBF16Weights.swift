import Collectives
import Foundation
import Model

/// The bf16 copy of the parameters (`--compute-dtype bf16`) once per node: node rank 0's
/// segment of a node-shared window holds all of it, every rank of the node reads it, and after
/// each change of the parameters each rank narrows its own slice of them into it
/// (`BF16Weights.slice`), so a node converts the parameters once, not once per rank.
/// Without a node (`node` nil) it is a private copy that `refresh` narrows whole.
final class NodeSharedBF16Weights {
    let weights: BF16Weights
    private let window: SharedWindow?
    /// `LION_DIST_BF16_DUMP` (tests): node rank 0 writes the parameters and the copy there
    /// after each refresh, as `<label>-<n>.f32` and `<label>-<n>.bf16`.
    private let dump: (directory: String, label: String)?
    private var refreshes = 0
    /// A float of every page of the parameters, summed at the first refresh (so the reads happen).
    private(set) var pageSum: Float = 0

    /// Collective over `node` when given.
    init(count: Int, node: Communicator?, dump: (directory: String, label: String)? = nil) throws {
        self.dump = dump
        if let node {
            let window = try SharedWindow(node: node, bytes: node.rank == 0 ? 2 * count : 0)
            self.window = window
            weights = BF16Weights(holding: window.base(of: 0).bindMemory(to: UInt16.self, capacity: count), count: count,
                                  owner: window)
        } else {
            window = nil
            let own = BF16Weights(count: count)
            weights = BF16Weights(holding: own.pointer, count: count, owner: own)
        }
    }

    /// The copy becomes bf16(params), element by element. Collective over the node: every node
    /// rank calls it with the same parameters (after each step; before an evaluation). The
    /// first barrier lets every peer finish reading the old copy, the last makes every slice
    /// visible before the next pass reads it.
    ///
    /// The first refresh also reads a float of every page of the parameters: in bf16 a pass
    /// reads only their embeddings and gains, and a rank writes only its shard, so without
    /// it a node-shared P's pages would count in full to the rank that zeroed them (Pss).
    func refresh(from params: UnsafePointer<Float>) throws {
        if refreshes == 0 {
            for at in stride(from: 0, to: weights.count, by: 1024) { pageSum += params[at] }
        }
        if let window {
            try window.sync()
            weights.refresh(from: params, range: BF16Weights.slice(window.node.rank, of: window.node.size, count: weights.count))
            try window.sync()
        } else {
            weights.refresh(from: params, range: 0..<weights.count)
        }
        refreshes += 1
        if let dump, window.map({ $0.node.rank == 0 }) ?? true { try write(dump, params) }
    }

    /// This rank's share of the node's copy.
    var heldBytes: Int { 2 * weights.count / (window?.node.size ?? 1) }

    private func write(_ dump: (directory: String, label: String), _ params: UnsafePointer<Float>) throws {
        let base = URL(fileURLWithPath: dump.directory).appendingPathComponent("\(dump.label)-\(refreshes)")
        let n = weights.count
        try Data(buffer: UnsafeBufferPointer(start: params, count: n)).write(to: base.appendingPathExtension("f32"))
        try Data(buffer: UnsafeBufferPointer(start: weights.pointer, count: n)).write(to: base.appendingPathExtension("bf16"))
    }
}
