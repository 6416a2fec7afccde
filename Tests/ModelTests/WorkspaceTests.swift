import XCTest
@testable import Model

final class WorkspaceTests: XCTestCase {
    /// The planner's figure is what a workspace really allocates.
    func testBytesMatchesTheAllocation() {
        for (hidden, batch) in [([1024, 512], 1024), ([], 3), ([7], 5)] {
            let m = MLP(inputs: 784, hidden: hidden, classes: 10)
            let ws = MLPWorkspace(model: m, maxBatch: batch)
            let held = ws.activations.reduce(0) { $0 + $1.bytes } + ws.grad0.bytes + ws.grad1.bytes
            XCTAssertEqual(MLPWorkspace.bytes(model: m, maxBatch: batch), held, "\(hidden) at batch \(batch)")
        }
        XCTAssertEqual(MLPWorkspace.bytes(model: MLP(inputs: 784, hidden: [1024, 512], classes: 10), maxBatch: 1024),
                       4 * 1024 * (1024 + 512 + 10 + 2 * 1024), "the doc comment's ~14.7 MB")
    }
}
