/// Where this run's ranks sit, made once per run and passed down: the world, the ranks of this
/// rank's node (`world.splitByNode()`), and every world rank's node (`NodeTopology`).
/// Everything that needs the node (the combiners' shared windows, the node-shared data, the
/// thread budget, the memory check, the watchdog) takes it from here, so the node is split
/// once per run.
public final class Topology {
    /// All ranks.
    public let world: Communicator
    /// The ranks of this rank's node.
    public let node: Communicator
    /// Every world rank's node and node rank.
    public let nodes: NodeTopology

    /// Collective over `world`: one node split and one small allgather. `nodeKey` groups the
    /// ranks with the same key as one node instead (a test of the multi-node paths on one machine).
    public init(world: Communicator, nodeKey: Int? = nil) throws {
        self.world = world
        node = try world.splitByNode(key: nodeKey)
        nodes = try NodeTopology.gather(world: world, node: node)
    }

    /// The number of hosts (nodes) the run spans.
    public var hosts: Int { nodes.nodeCount }
}
