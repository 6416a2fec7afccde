import XCTest
import Model

final class LayoutTests: XCTestCase {
    func testParameterCountAndOffsets() {
        let m = MLP(inputs: 784, hidden: [1024, 512], classes: 10)
        XCTAssertEqual(m.shapeDescription, "784-1024-512-10")
        XCTAssertEqual(m.parameterCount, 784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10)
        XCTAssertEqual(m.parameterCount, 1_333_770)
        XCTAssertEqual(m.layers.map(\.inputs), [784, 1024, 512])
        XCTAssertEqual(m.layers.map(\.outputs), [1024, 512, 10])
        var next = 0
        for layer in m.layers {
            XCTAssertEqual(layer.weightOffset, next, "contiguous, no gap or overlap")
            XCTAssertEqual(layer.biasOffset, layer.weightOffset + layer.inputs * layer.outputs)
            next = layer.biasOffset + layer.outputs
        }
        XCTAssertEqual(next, m.parameterCount)
    }

    func testNoHiddenLayers() {
        let m = MLP(inputs: 3, hidden: [], classes: 2)
        XCTAssertEqual(m.parameterCount, 8)
        XCTAssertEqual(m.shapeDescription, "3-2")
    }

    func testInitDeterministicBySeed() {
        let m = MLP(inputs: 20, hidden: [16, 8], classes: 4)
        let a = FlatBuffer(count: m.parameterCount)
        let b = FlatBuffer(count: m.parameterCount)
        let c = FlatBuffer(count: m.parameterCount)
        m.initialize(a.pointer, seed: 1)
        m.initialize(b.pointer, seed: 1)
        m.initialize(c.pointer, seed: 2)
        XCTAssertEqual(Array(a.buffer), Array(b.buffer))
        XCTAssertNotEqual(Array(a.buffer), Array(c.buffer))
        for (l, layer) in m.layers.enumerated() {
            let bound = Float(l == m.layers.count - 1 ? (1 / Double(layer.inputs)).squareRoot()
                                                      : (6 / Double(layer.inputs)).squareRoot())
            let w = a.buffer[layer.weightOffset..<layer.biasOffset]
            XCTAssertTrue(w.allSatisfy { abs($0) <= bound })
            XCTAssertGreaterThan(w.map { abs($0) }.max()!, bound * 0.8)
            XCTAssertTrue(a.buffer[layer.biasOffset..<layer.biasOffset + layer.outputs].allSatisfy { $0 == 0 })
        }
    }
}
