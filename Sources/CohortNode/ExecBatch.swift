import CohortStorage

/// The storage transaction EXEC runs its queued commands in: each command's reads see the
/// writes of the commands before it, and all their writes commit together as one group (or,
/// under a replication leader, become one log entry). Commands reach it through
/// `CommandContext.batch`; it lives only while EXEC runs, under the engine's lock.
final class ExecBatch {
    var transaction: StorageTransaction

    init(_ transaction: StorageTransaction) {
        self.transaction = transaction
    }
}
