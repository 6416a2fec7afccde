import Foundation

/// The whole report page.
public struct HTMLReport {
    public let records: [SweepRecord]
    public let title: String
    public let heatmapBatch: Int?

    public init(records: [SweepRecord], title: String, heatmapBatch: Int? = nil) {
        self.records = records
        self.title = title
        self.heatmapBatch = heatmapBatch
    }

    public func html() -> String { "<html></html>" }
}
