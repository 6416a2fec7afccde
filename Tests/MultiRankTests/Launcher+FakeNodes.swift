extension Launcher {
    /// mpirun options that make "nodes" on this machine: ranks with the same LION_DIST_NODE_KEY
    /// form a node (world rank / perNode); MPI traffic (also within a node) goes over TCP.
    static func fakeNodes(perNode: Int) -> [String] {
        ["--mca", "btl", "self,tcp", "sh", "-c",
         "LION_DIST_NODE_KEY=$((OMPI_COMM_WORLD_RANK / \(perNode))) exec \"$0\" \"$@\""]
    }
}
