import CohortReplication
import Logging

extension Logger {
    /// Logs a group's or the node shell's line (their ``GroupLogLevel`` and string fields),
    /// with `base` metadata (the node's or keyspace's name) under the line's own fields.
    func log(
        _ level: GroupLogLevel, _ message: String, fields: [String: String],
        base: Logger.Metadata
    ) {
        var metadata = base
        for (key, value) in fields { metadata[key] = "\(value)" }
        switch level {
        case .info: info("\(message)", metadata: metadata)
        case .warning: warning("\(message)", metadata: metadata)
        case .error: error("\(message)", metadata: metadata)
        case .critical: critical("\(message)", metadata: metadata)
        }
    }
}
