import CohortNode
import CohortRaft
import CohortStorage

extension RaftConfig {
    /// What a clustered node runs: timings for a tick of ``ServerConfiguration/tickMillis``,
    /// deep pipelines, and the byte bounds of ``ClusterLimits``, so that any value a client
    /// may send replicates.
    public static func cluster(for configuration: ServerConfiguration) -> RaftConfig {
        let limits = ClusterLimits(configuration)
        var config = RaftConfig()
        config.electionTimeoutTicksMin = 10
        config.electionTimeoutTicksMax = 20
        config.heartbeatIntervalTicks = 2
        config.entriesPerMessageMax = 512
        config.bytesPerMessageMax = ClusterLimits.appendEntriesBatchBytes
        config.inflightMessagesMax = 32
        config.uncommittedEntriesMax = 65_536
        config.readRequestsPendingMax = 65_536
        config.snapshotChunkBytesMax = limits.snapshotChunkBytesMax
        config.entryBytesMax = limits.entryBytesMax
        config.incomingSnapshotBytesMax = limits.snapshotBytesMax
        return config
    }
}

extension RaftLogStoreOptions {
    /// A clustered node's log store: its records and snapshots hold what
    /// ``RaftConfig/cluster(for:)`` lets Raft produce.
    public static func cluster(for configuration: ServerConfiguration) -> RaftLogStoreOptions {
        let limits = ClusterLimits(configuration)
        var options = RaftLogStoreOptions()
        options.entryBytesMax = limits.entryBytesMax
        options.snapshotBytesMax = limits.snapshotBytesMax
        return options
    }
}
