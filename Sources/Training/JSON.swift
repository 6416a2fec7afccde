import Report

/// A JSON value with ordered object keys (defined in Report, beside the summary's schema that
/// both the writers here and the sweep reader use).
public typealias JSON = Report.JSON
