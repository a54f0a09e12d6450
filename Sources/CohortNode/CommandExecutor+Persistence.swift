import CohortStorage

extension CommandExecutor {
    /// INFO persistence: the durability policy and what the storage engine reports.
    func persistenceFields() -> [(String, String)] {
        let stats = engine.statistics
        let recovery = engine.recovery
        return [
            ("loading", "0"),
            ("aof_enabled", "1"),
            ("cohort_fsync", configuration.engineFsync.rawValue),
            ("appendfsync", appendfsyncName),
            // As Redis reports a failed AOF write; while "err", writes are refused.
            ("aof_last_write_status", stats.appendBlockedReason == nil ? "ok" : "err"),
            ("storage_writes_blocked_reason", stats.appendBlockedReason ?? ""),
            ("storage_writes_blocked_total", "\(stats.appendsBlocked)"),
            ("storage_disk_bytes", "\(stats.diskBytes)"),
            ("storage_live_bytes", "\(stats.liveBytes)"),
            ("storage_segments", "\(stats.segmentCount)"),
            ("storage_fsyncs", "\(stats.fsyncCount)"),
            ("storage_compactions", "\(stats.compactions)"),
            ("storage_bytes_reclaimed", "\(stats.bytesReclaimed)"),
            ("storage_last_fsync_micros", "\(stats.lastFsyncLatencyMicros)"),
            ("storage_value_cache_bytes", "\(stats.valueCacheBytes)"),
            ("storage_value_cache_hits", "\(stats.valueCacheHits)"),
            ("storage_value_cache_misses", "\(stats.valueCacheMisses)"),
            ("recovery_records", "\(recovery.recordsLoaded)"),
            ("recovery_index_checkpoint", recovery.indexCheckpointUsed ? "1" : "0"),
            ("recovery_torn_tail_bytes", "\(recovery.tornTail?.bytesDropped ?? 0)"),
            ("recovery_corruptions", "\(recovery.corruptions.count)"),
        ]
    }
}
