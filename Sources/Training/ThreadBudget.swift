import Collectives
import LionEngine

/// How many threads this rank may use: the cores in its affinity mask, each shared by the
/// ranks of this node whose masks also hold it. Four ranks bound one core each get 1 thread
/// each; four unbound ranks on 2 cores get 2/4 -> 1; two ranks bound to 4 cores each get 4.
/// Never the machine's core count.
package enum ThreadBudget {
    /// Threads for this rank, agreed with the other ranks of its node.
    package static func threadsPerRank(node: Communicator) throws -> Int {
        var mine = CPUAffinity.mask()
        if mine.allSatisfy({ $0 == 0 }) { mine[0] = 1 }  // unknown: count as one CPU
        let bytes = mine.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
        let all = try node.allgatherBytes(bytes)
        var share = 0.0
        for (w, word) in mine.enumerated() {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                let byte = w * 8 + bit / 8
                let holders = all.filter { $0[byte] & (1 << UInt8(bit % 8)) != 0 }.count
                share += 1.0 / Double(max(holders, 1))
            }
        }
        return max(1, Int(share + 1e-9))
    }
}
