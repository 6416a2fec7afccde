import Foundation

/// The CPU a process runs on, as /proc/cpuinfo (and so lscpu) names it: the model name, family
/// and model, and the instruction sets this project's figures depend on. A figure is quoted
/// with its CPU; the banner, the run summary (`cpu`) and `bench gpt` print `description`.
public struct CPUInfo: Sendable, Equatable {
    /// "model name", or "this CPU" where there is none.
    public let modelName: String
    public let family: Int?
    public let model: Int?
    public let flags: Set<String>

    /// The features named in `description`, in that order (lscpu's flag names).
    public static let features = ["avx512f", "avx512_bf16", "amx_bf16"]

    /// The first processor's block of a /proc/cpuinfo text.
    public init(cpuinfo: String?) {
        var fields: [String: String] = [:]
        for line in (cpuinfo ?? "").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty, !fields.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        modelName = fields["model name"].flatMap { $0.isEmpty ? nil : $0 } ?? "this CPU"
        family = fields["cpu family"].flatMap { Int($0) }
        model = fields["model"].flatMap { Int($0) }
        flags = Set((fields["flags"] ?? "").split(separator: " ").map(String.init))
    }

    /// This machine's, read once.
    public static let current = CPUInfo(cpuinfo: try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))

    /// "AMD EPYC (family 25, model 17; avx512f, avx512_bf16, no amx_bf16)": the name, then what
    /// identifies the core where the name does not, then each of `features` present or "no" it.
    public var description: String {
        let id = [family.map { "family \($0)" }, model.map { "model \($0)" }].compactMap { $0 }.joined(separator: ", ")
        let isa = Self.features.map { flags.contains($0) ? $0 : "no " + $0 }.joined(separator: ", ")
        return modelName + " (" + (id.isEmpty ? "" : id + "; ") + isa + ")"
    }

    /// Every rank's `description` (in rank order) as one text: the distinct ones in order of first
    /// appearance, joined by " | " (one, on a machine or a cluster of one CPU type).
    public static func distinct(_ descriptions: [String]) -> String {
        var seen: [String] = []
        for d in descriptions where !seen.contains(d) { seen.append(d) }
        return seen.joined(separator: " | ")
    }
}
