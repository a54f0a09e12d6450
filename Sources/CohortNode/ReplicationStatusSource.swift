import Synchronization

/// What the command layer asks of the replication driver for INFO replication, COHORT STATUS
/// and COHORT ROLLBACK. Implemented by the network shell's driver; absent on a standalone node.
public protocol ReplicationStatusSource: AnyObject, Sendable {
    /// `INFO replication` fields, in order.
    func replicationFields(nowMillis: UInt64) -> [(String, String)]
    /// The newest entries of the rollback log, newest last, one line each.
    func rollbackLines(limit: Int) -> [String]
}

/// Holds the driver once it exists (the driver needs the executor first).
public final class ReplicationStatusSlot: Sendable {
    private let source = Mutex<(any ReplicationStatusSource)?>(nil)

    init() {}

    /// Installs the driver.
    public func install(_ newSource: any ReplicationStatusSource) {
        source.withLock { $0 = newSource }
    }

    /// The driver, if this node is clustered.
    public var current: (any ReplicationStatusSource)? { source.withLock { $0 } }
}
