import CohortCore
import CohortNode
import CohortReplication
import CohortStorage
import Foundation
import NIOConcurrencyHelpers

/// Writes this node accepted into its log but a new leader discarded before they committed
/// (DESIGN.md §3): in `leader` acknowledgement mode their clients were told "OK", so they must
/// not vanish silently. Each is appended as one line to `rollback.log` in the data directory
/// (fsynced) and kept in memory for COHORT ROLLBACK and the status API.
final class RollbackLog: RollbackRecording {
    private let path: String
    private let directory: String
    private let fileName: String
    private let lines = NIOLockedValueBox<[String]>([])
    /// Lines kept in memory; the file keeps everything.
    static let linesInMemoryMax = 10_000

    init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        self.directory = slash.map { String(path[..<$0]) } ?? "."
        self.fileName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let existing = text.split(separator: "\n").suffix(Self.linesInMemoryMax).map(
                String.init)
            lines.withLockedValue { $0 = existing }
        }
    }

    /// Records one discarded entry: in memory always, then appended to the file and
    /// fdatasynced. Throws when the file could not be written or synced; the entry is still
    /// listed in memory, and the caller logs the failure and decides.
    public func record(
        index: LogIndex, term: Term, entry: LogicalEntry, nowMillis: UInt64
    ) throws {
        var text = "at_ms=\(nowMillis) index=\(index.rawValue) term=\(term.rawValue)"
        if entry.flushesAll { text += " flushall" }
        for effect in entry.effects {
            switch effect {
            case .put(let key, let value, _, let expiresAtMillis):
                text += " set \(Self.quote(key))=\(Self.quote(value))"
                if expiresAtMillis != 0 { text += " expires_ms=\(expiresAtMillis)" }
            case .delete(let key):
                text += " del \(Self.quote(key))"
            }
        }
        lines.withLockedValue {
            $0.append(text)
            if $0.count > Self.linesInMemoryMax { $0.removeFirst($0.count - Self.linesInMemoryMax) }
        }
        try DurableFile.append(Array((text + "\n").utf8), name: fileName, directory: directory)
    }

    /// The newest `limit` lines, oldest first.
    func newest(_ limit: Int) -> [String] {
        lines.withLockedValue { Array($0.suffix(limit)) }
    }

    public var count: Int { lines.withLockedValue { $0.count } }

    /// Printable bytes as is, anything else as \xNN, in double quotes.
    static func quote(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes.prefix(256) {
            if byte >= 0x20 && byte < 0x7f && byte != 0x22 && byte != 0x5c {
                text.append(Character(UnicodeScalar(byte)))
            } else {
                text += "\\x" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        if bytes.count > 256 { text += "..." }
        return text + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
