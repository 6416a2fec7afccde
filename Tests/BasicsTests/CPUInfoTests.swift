import Basics
import XCTest

final class CPUInfoTests: XCTestCase {
    /// Two processors as /proc/cpuinfo lists them on x86: the first block is read, its name,
    /// family, model and flags.
    let epyc = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 25
        model\t\t: 17
        model name\t: AMD EPYC 9R14
        flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 avx512_vnni

        processor\t: 1
        model name\t: Other
        flags\t\t: amx_bf16

        """

    func testParsesTheFirstProcessor() {
        let cpu = CPUInfo(cpuinfo: epyc)
        XCTAssertEqual(cpu.modelName, "AMD EPYC 9R14")
        XCTAssertEqual(cpu.family, 25)
        XCTAssertEqual(cpu.model, 17)
        XCTAssertTrue(cpu.flags.contains("avx512_bf16"))
        XCTAssertFalse(cpu.flags.contains("amx_bf16"), "the second processor's flags are not the first's")
        XCTAssertEqual(cpu.description, "AMD EPYC 9R14 (family 25, model 17; avx512f, avx512_bf16, no amx_bf16)")
    }

    func testNamesWhatIsMissing() {
        let xeon = CPUInfo(cpuinfo: "processor : 0\ncpu family : 6\nmodel : 143\nmodel name : Intel(R) Xeon(R) Platinum 8481C\nflags : avx512f amx_bf16 amx_tile\n")
        XCTAssertEqual(xeon.description, "Intel(R) Xeon(R) Platinum 8481C (family 6, model 143; avx512f, no avx512_bf16, amx_bf16)")
        // No model name, family or flags (an ARM /proc/cpuinfo, or none at all).
        XCTAssertEqual(CPUInfo(cpuinfo: "processor : 0\nBogoMIPS : 50.00\n").description,
                       "this CPU (no avx512f, no avx512_bf16, no amx_bf16)")
        XCTAssertEqual(CPUInfo(cpuinfo: nil).modelName, "this CPU")
    }

    func testThisMachineHasAName() {
        let cpu = CPUInfo.current
        print("this CPU: \(cpu.description)")
        XCTAssertFalse(cpu.description.isEmpty)
        let lscpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if lscpu.contains("model name") { XCTAssertTrue(lscpu.contains(cpu.modelName), cpu.modelName) }
    }

    func testDistinctKeepsFirstAppearanceOrder() {
        XCTAssertEqual(CPUInfo.distinct(["A", "A", "B", "A", "C"]), "A | B | C")
        XCTAssertEqual(CPUInfo.distinct(["A", "A"]), "A")
        XCTAssertEqual(CPUInfo.distinct([]), "")
    }
}
