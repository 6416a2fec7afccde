import XCTest
import LionEngine

final class ConfigTests: XCTestCase {
    func testDefaults() {
        let lion = OptimizerConfig.defaults(for: .lion)
        XCTAssertEqual(lion.lr, 1e-4)
        XCTAssertEqual(lion.beta1, 0.9)
        XCTAssertEqual(lion.beta2, 0.99, "Lion's b2 is 0.99, not 0.999")
        XCTAssertEqual(lion.weightDecay, 0)
        XCTAssertEqual(lion.stateBuffers, 1)
        let adamw = OptimizerConfig.defaults(for: .adamw)
        XCTAssertEqual(adamw.lr, 1e-3)
        XCTAssertEqual(adamw.beta2, 0.999)
        XCTAssertEqual(adamw.eps, 1e-8)
        XCTAssertEqual(adamw.stateBuffers, 2)
        XCTAssertEqual(StateDType.bf16.bytesPerElement, 2)
        XCTAssertNoThrow(try lion.validate())
        XCTAssertNoThrow(try adamw.validate())
    }

    func message(_ change: (inout OptimizerConfig) -> Void) -> String? {
        var c = OptimizerConfig.defaults(for: .lion)
        change(&c)
        do { try c.validate(); return nil } catch let e as OptimizerConfigError { return e.message() } catch { return "\(error)" }
    }

    func testEachBadValueHasItsOwnMessage() {
        XCTAssertEqual(message { $0.lr = 0 }, "lr must be > 0 and finite, got 0.0")
        XCTAssertEqual(message { $0.lr = -1 }, "lr must be > 0 and finite, got -1.0")
        XCTAssertEqual(message { $0.lr = .infinity }, "lr must be > 0 and finite, got inf")
        XCTAssertEqual(message { $0.lr = .nan }, "lr must be > 0 and finite, got nan")
        XCTAssertEqual(message { $0.beta1 = 1 }, "beta1 must be in [0, 1), got 1.0")
        XCTAssertEqual(message { $0.beta1 = -0.5 }, "beta1 must be in [0, 1), got -0.5")
        XCTAssertEqual(message { $0.beta2 = 1 }, "beta2 must be in [0, 1), got 1.0")
        XCTAssertEqual(message { $0.beta2 = .nan }, "beta2 must be in [0, 1), got nan")
        XCTAssertEqual(message { $0.weightDecay = -0.1 }, "weightDecay must be >= 0 and finite, got -0.1")
        XCTAssertEqual(message { $0.eps = 0 }, "eps must be > 0 and finite, got 0.0")
        XCTAssertNil(message { $0.beta1 = 0; $0.beta2 = 0 }, "0 is a valid beta")
        for m in [message { $0.beta2 = 1 }, message { $0.eps = 0 }] {
            XCTAssertFalse(m!.contains("\n"), "one line")
        }
        do {
            var c = OptimizerConfig.defaults(for: .adamw)
            c.weightDecay = -1
            try c.validate()
            XCTFail("weight decay -1 accepted")
        } catch let e as OptimizerConfigError {
            XCTAssertEqual(e.field, .weightDecay)
            XCTAssertEqual(e.value, -1)
            XCTAssertEqual(e.message(naming: "--weight-decay"), "--weight-decay must be >= 0 and finite, got -1.0")
            XCTAssertEqual(e.description, "weightDecay must be >= 0 and finite, got -1.0")
        } catch {
            XCTFail("\(error)")
        }
    }
}
