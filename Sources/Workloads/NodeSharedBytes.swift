import Collectives
import TextData

/// Bytes held once per node: node rank 0 writes them into its segment of a node-shared window,
/// every rank of the node reads them there (the Fashion-MNIST images, the corpus's tokens).
/// Read-only once built; keeps the window mapped as long as any view of it.
final class NodeSharedBytes {
    let window: SharedWindow
    /// Bytes of the node's copy.
    let count: Int
    /// A byte of every page summed at load (so the loads happen).
    private(set) var pageSum: UInt8 = 0

    /// Collective over `node` (`splitByNode()` of the world): node rank 0 calls `fill` with its
    /// segment of `count` bytes; then every rank maps every page now (a run reads them all
    /// anyway), so Pss splits the node's bytes evenly from the first step.
    init(node: Communicator, count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) throws {
        self.count = count
        window = try SharedWindow(node: node, bytes: node.rank == 0 ? count : 0)
        if node.rank == 0 { fill(UnsafeMutableRawBufferPointer(start: window.base(of: 0), count: count)) }
        try window.sync()
        for at in stride(from: 0, to: count, by: 4096) { pageSum &+= bytes[at] }
    }

    /// The node's bytes.
    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: window.base(of: 0).assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// This rank's share of the node's bytes.
    var heldBytes: Int { count / window.node.size }
}

extension ShakespeareCorpus {
    /// This corpus with its tokens read from one copy per node (`--model gpt`: uint16, 10 MB for
    /// Shakespeare); the private copy each rank loaded (and checked) is dropped. Collective over
    /// `node` (`splitByNode()` of the world).
    public func sharedPerNode(_ node: Communicator) throws -> ShakespeareCorpus {
        let (train, validation) = (self.train.count, self.validation.count)
        let shared = try NodeSharedBytes(node: node, count: 2 * (train + validation)) { segment in
            let base = segment.baseAddress!.assumingMemoryBound(to: UInt16.self)
            self.train.copy(from: 0, count: train, to: base)
            self.validation.copy(from: 0, count: validation, to: base + train)
        }
        let base = UnsafeRawPointer(shared.bytes.baseAddress!).assumingMemoryBound(to: UInt16.self)
        return reading(train: Tokens(base: base, count: train, owner: shared),
                       validation: Tokens(base: base + train, count: validation, owner: shared))
    }
}
