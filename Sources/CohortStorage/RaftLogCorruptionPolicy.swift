/// What ``RaftLogStore/open(directory:options:)`` does when it finds damage before the end of
/// the log (a bad record that valid records follow, a damaged sealed segment, a record that
/// cannot follow the ones before it).
///
/// A torn tail (an incomplete final write, nothing valid after it) is always cut silently and
/// reported: those bytes were never covered by a sync, so the node never acknowledged them.
/// Damage before the tail is different: the records there were synced, so the node may have
/// acknowledged them (voted, or counted toward a leader's commit). Raft's safety assumes a node
/// never forgets what it acknowledged; a node that does can help elect a leader that lacks a
/// committed entry. So by default the store refuses to open, and an operator decides.
///
/// The test for "torn" is that no valid record follows the damage. Two rare cases read as
/// damage in the middle instead, and so refuse to open although nothing acknowledged was lost:
/// a crash after which the disk kept a later page of an unsynced write but not an earlier one,
/// and a torn entry whose data happens to contain a valid encoded record.
public enum RaftLogCorruptionPolicy: Sendable, Hashable {
    /// Throw ``StorageError/corrupt(file:offset:reason:)`` naming the first bad record. The
    /// default.
    case refuse
    /// Cut the log at the first bad record (dropping every later record and segment), lower
    /// the commit index to what remains, report it in ``RaftLogRecovery/corruptions`` and
    /// open. Safe only when the node is known not to be needed for any quorum that counted the
    /// lost records, for example after the rest of the group has moved on and the node will
    /// re-fetch its log from the leader (or be removed and re-added as a new member).
    case truncate
}
