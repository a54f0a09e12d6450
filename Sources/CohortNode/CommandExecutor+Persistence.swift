import CohortStorage

extension CommandExecutor {
    /// INFO persistence: the durability policy and what the storage engine reports.
    func persistenceFields() -> [(String, String)] {
        let stats = engine.statistics
        let recovery = engine.recovery
        return [
            ("loading", "0"),
            ("aof_enabled", "1"),
            ("cohort_fsync", configuration.fsync.rawValue),
            ("appendfsync", appendfsyncName),
            ("storage_disk_bytes", "\(stats.diskBytes)"),
            ("storage_live_bytes", "\(stats.liveBytes)"),
            ("storage_segments", "\(stats.segmentCount)"),
            ("storage_fsyncs", "\(stats.fsyncCount)"),
            ("storage_compactions", "\(stats.compactions)"),
            ("storage_bytes_reclaimed", "\(stats.bytesReclaimed)"),
            ("recovery_records", "\(recovery.recordsLoaded)"),
            ("recovery_torn_tail_bytes", "\(recovery.tornTail?.bytesDropped ?? 0)"),
            ("recovery_corruptions", "\(recovery.corruptions.count)"),
        ]
    }
}
