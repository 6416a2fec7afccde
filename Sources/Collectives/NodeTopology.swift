/// Where every world rank sits: its node (numbered by the lowest world rank on it) and its
/// rank within the node. The same on every rank; built with one small allgather.
public struct NodeTopology: Sendable, Equatable {
    /// nodeOf[worldRank], localRankOf[worldRank]
    public let nodeOf: [Int]
    public let localRankOf: [Int]
    /// members[node] = world ranks on that node, in node-rank order.
    public let members: [[Int]]

    public init(nodeOf: [Int], localRankOf: [Int]) {
        self.nodeOf = nodeOf
        self.localRankOf = localRankOf
        var members = [[Int]](repeating: [], count: (nodeOf.max() ?? -1) + 1)
        for r in nodeOf.indices { members[nodeOf[r]].append(r) }
        for n in members.indices { members[n].sort { localRankOf[$0] < localRankOf[$1] } }
        self.members = members
    }

    /// Collective over `world`; `node` is `world.splitByNode()`.
    public static func gather(world: Communicator, node: Communicator) throws -> NodeTopology {
        // Each rank sends (lowest world rank on its node, its node rank).
        let leader = try node.allreduceMin(Int64(world.rank))
        let all = try world.allgather([leader, Int64(node.rank)]).map { $0.map(Int.init) }
        let leaders = all.map { $0[0] }
        let nodeIds = Array(Set(leaders)).sorted()
        return NodeTopology(nodeOf: leaders.map { nodeIds.firstIndex(of: $0)! }, localRankOf: all.map { $0[1] })
    }

    public var nodeCount: Int { members.count }
    /// Every node has the same number of ranks.
    public var isUniform: Bool { Set(members.map(\.count)).count == 1 }
}
