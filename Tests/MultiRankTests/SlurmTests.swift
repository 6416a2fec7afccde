import Foundation
import XCTest

/// lion-dist launched the way a cluster user does: a one-node Slurm cluster (scripts/slurm-local:
/// Debian's slurm-wlm and munge, installed when missing; generated munge key and slurm.conf in a
/// temporary directory), then launch/slurm.sbatch through `sbatch` and a plain `srun`. Skipped with
/// the reason where Slurm cannot be installed or started.
final class SlurmTests: XCTestCase {
    let script = Launcher.packageRoot.appendingPathComponent("scripts/slurm-local").path
    var dir: URL!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("the one-node Slurm cluster needs root (slurmd, munged)") }
        dir = try Launcher.temporaryDirectory()
        let r = try TestBed.command(script, ["up", dir.path], timeout: 300)
        guard r.status == 0 else {
            _ = try? TestBed.command(script, ["down", dir.path])
            throw XCTSkip("Slurm could not start here: \(r.text)")
        }
        env = ["SLURM_CONF": dir.appendingPathComponent("slurm.conf").path, "LION_DIST": try Launcher.binary()]
    }

    override func tearDown() {
        if let dir {
            let r = try? TestBed.command(script, ["down", dir.path])
            XCTAssertEqual(r?.status, 0, "scripts/slurm-local down \(dir.path): \(r?.text ?? "")")
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// The banner: "lion-dist: 2 rank(s) on 1 host(s), ..." and the cpu, model, optimizer, comm, data lines.
    func banner(_ text: String) -> [Substring] {
        Array(text.split(separator: "\n").prefix(6))
    }

    func testSbatchAndSrunPrintWhatMpirunPrints() throws {
        let args = ["--max-steps", "5", "--log-interval", "1000"]
        let mpirun = try Launcher.run(ranks: 2, args)
        XCTAssertEqual(mpirun.status, 0, mpirun.stderr)
        let expected = banner(mpirun.stdout)
        XCTAssertTrue(expected.first?.hasPrefix("lion-dist: 2 rank(s) on 1 host(s), ") == true, mpirun.stdout)

        let out = dir.appendingPathComponent("job.out")
        let sbatch = try TestBed.command("sbatch", ["--wait", "--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1",
                                                     "--output=\(out.path)",
                                                     Launcher.packageRoot.appendingPathComponent("launch/slurm.sbatch").path] + args,
                                         env: env, timeout: 180)
        let job = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        XCTAssertEqual(sbatch.status, 0, "sbatch: \(sbatch.text)\njob output:\n\(job)")
        XCTAssertEqual(banner(job), expected, "sbatch job output:\n\(job)")
        XCTAssertTrue(job.contains("done: test accuracy"), job)

        let srun = try TestBed.command("srun", ["--ntasks=2", "--mpi=pmix", try Launcher.binary()] + args, env: env, timeout: 180)
        XCTAssertEqual(srun.status, 0, srun.text)
        XCTAssertEqual(banner(srun.text), expected, "srun output:\n\(srun.text)")
    }
}
