import Collectives
import TextData

/// The corpus's tokens once per node (`--model gpt`): node rank 0 copies them (uint16, 10 MB for
/// Shakespeare) into a node-shared window and every rank of the node reads them there; the
/// private copy each rank loaded (and checked) is dropped. Keeps the window alive as long as
/// any view of it.
final class SharedTokens {
    let window: SharedWindow
    /// A token of every page summed at load (so the loads happen).
    private(set) var pageSum: UInt16 = 0

    private init(window: SharedWindow) { self.window = window }

    /// `corpus` with its tokens read from one copy per node. Collective over `node`
    /// (`splitByNode()` of the world).
    static func share(_ corpus: ShakespeareCorpus, node: Communicator) throws -> ShakespeareCorpus {
        let (train, validation) = (corpus.train.count, corpus.validation.count)
        let window = try SharedWindow(node: node, bytes: node.rank == 0 ? 2 * (train + validation) : 0)
        let base = window.base(of: 0).assumingMemoryBound(to: UInt16.self)
        if node.rank == 0 {
            corpus.train.copy(from: 0, count: train, to: base)
            corpus.validation.copy(from: 0, count: validation, to: base + train)
        }
        try window.sync()
        let owner = SharedTokens(window: window)
        // Map every page on every rank now, so Pss splits the node's copy evenly from the first step.
        for at in stride(from: 0, to: train + validation, by: 2048) { owner.pageSum &+= base[at] }
        return corpus.reading(train: Tokens(base: base, count: train, owner: owner),
                              validation: Tokens(base: base + train, count: validation, owner: owner))
    }
}
