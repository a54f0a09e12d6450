import CohortCore

/// The answer to a snapshot chunk.
public enum RaftInstallSnapshotResponse: Hashable, Sendable {
    /// The receiver holds the snapshot's first `nextOffset` bytes and wants the rest.
    case progress(snapshotIndex: LogIndex, nextOffset: UInt64)
    /// The receiver installed the snapshot durably (or already had its entries committed), so
    /// its log matches the leader's through `snapshotIndex`.
    case complete(snapshotIndex: LogIndex)
}
