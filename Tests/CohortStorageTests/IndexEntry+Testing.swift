import CohortCore

@testable import CohortStorage

extension IndexEntry {
    /// A live string's entry at offset `sequence` of segment 1, for index tests.
    static func testing(_ sequence: UInt64) -> IndexEntry {
        IndexEntry(
            segmentID: 1, offset: sequence, recordLength: 60,
            metadata: VersionMetadata(
                sequence: sequence, timestamp: .zero, origin: NodeID(1), isTombstone: false,
                type: .string, expiresAtMillis: 0))
    }
}
