import LionDist
import XCTest

/// A `TensorGroup` that leaves `weightDecay` unset keeps each tensor's own `decays`: putting a
/// bias in a group for its learning rate must not make it decay (it once did: the group's nil
/// meant "the options' decay for every tensor of the group").
final class GroupDecayTests: XCTestCase {
    func testAGroupInheritsEachTensorsDecays() throws {
        var layout = TensorLayout()
        let w = try layout.add("w", shape: [4])                     // decays, in no group
        let b = try layout.add("b", shape: [4], decays: false)      // in a group for its lr only
        let c = try layout.add("c", shape: [4], decays: false)      // in no group
        let d = try layout.add("d", shape: [4], decays: false)      // in a group that sets a decay
        let opt = try DistributedOptimizer(tensors: layout.tensors, options: .lion(lr: 0.1, weightDecay: 0.5),
                                           groups: [TensorGroup(tensors: ["b"], lrScale: 0.5),
                                                    TensorGroup(tensors: ["d"], weightDecay: 0.5)],
                                           threads: 1, world: try World.start())
        for t in [w, b, c, d] { opt.parameters[t].fill(1) }
        for t in [w, b, c, d] { opt.gradients[t].fill(0) }
        try opt.step()   // a zero gradient: Lion's sign update is 0, only the decay moves a parameter
        XCTAssertLessThan(opt.parameters[w][0], 1, "a decaying tensor decays")
        XCTAssertEqual(opt.parameters[b].elements, [1, 1, 1, 1], "a group without weightDecay keeps decays: false")
        XCTAssertEqual(opt.parameters[c].elements, [1, 1, 1, 1])
        XCTAssertEqual(opt.parameters[d].elements, opt.parameters[w].elements, "a group's own weightDecay applies")
    }
}
