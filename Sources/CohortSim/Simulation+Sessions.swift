import CohortCheck
import CohortCore
import CohortReplication

/// Session guarantees of session reads (read-your-writes, monotonic reads) and the bound of
/// bounded-staleness reads, checked on what clients saw. Values are unique, and every
/// acknowledged write's value is known with its log index, so "older" means a lower index.
extension Simulation {
    func checkSessionGuarantees() {
        // A `leader`-mode write a failover discarded is gone by design (it is in a rollback
        // log): a session may then not see it. Under `majority` and `all` an acknowledged write
        // is committed, and what rollback logs hold was never acknowledged: checked always.
        guard !(parameters.ackMode == .leader && rollbacksHappened) else { return }
        // The latest index each client had written per key, as of each moment.
        for read in sessionReads where read.consistency == .session {
            let own = ackedWrites.filter {
                $0.client == read.client && $0.key == read.key && $0.micros <= read.invokedMicros
            }
            guard let latest = own.map(\.index).max() else { continue }
            guard let value = read.value else {
                return record(
                    .sessionGuarantee,
                    "read-your-writes: client \(read.client) wrote \(String(decoding: read.key, as: UTF8.self)) "
                        + "at index \(latest), then a session read found it absent")
            }
            if let index = indexOfValue[value], index < latest {
                return record(
                    .sessionGuarantee,
                    "read-your-writes: client \(read.client) wrote \(String(decoding: read.key, as: UTF8.self)) "
                        + "at index \(latest), then a session read returned the value of index \(index)"
                )
            }
        }
        var lastSeen: [[UInt8]: UInt64] = [:]
        for read in sessionReads where read.consistency == .session {
            let slot = [UInt8(truncatingIfNeeded: read.client)] + read.key
            guard let value = read.value, let index = indexOfValue[value] else {
                if read.value == nil, let seen = lastSeen[slot] {
                    return record(
                        .sessionGuarantee,
                        "monotonic reads: client \(read.client) saw index \(seen) of "
                            + "\(String(decoding: read.key, as: UTF8.self)), then the key absent")
                }
                continue
            }
            if let seen = lastSeen[slot], index < seen {
                return record(
                    .sessionGuarantee,
                    "monotonic reads: client \(read.client) saw index \(seen) of "
                        + "\(String(decoding: read.key, as: UTF8.self)), then index \(index)")
            }
            lastSeen[slot] = max(lastSeen[slot] ?? 0, index)
        }
    }

    var rollbacksHappened: Bool { rollbacks.contains { $0.count > 0 } }

    /// A `stale <ms>` read must reflect every write acknowledged more than the bound (plus
    /// the clocks' drift and the longest network delay: staleness is measured from when the
    /// follower heard its leader) before it was sent.
    ///
    /// Under `leader` mode an acknowledgement precedes the commit (by as long as a partition
    /// lasts), and the bound is on committed state: those seeds are not checked here.
    func checkBoundedStaleness() {
        guard parameters.ackMode != .leader else { return }
        let conditions = parameters.network
        let delayMax = conditions.delayMicrosMax + conditions.longDelayMicrosMax
        for read in sessionReads {
            guard case .boundedStaleness(let millis) = read.consistency else { continue }
            let slack = millis * 1_000 * 105 / 100 + delayMax + 2 * tickMicros
            guard read.invokedMicros > slack else { continue }
            let horizon = read.invokedMicros - slack
            guard
                let required = ackedWrites.filter({ $0.key == read.key && $0.micros <= horizon })
                    .map(\.index).max()
            else { continue }
            let found = read.value.flatMap { indexOfValue[$0] }
            if read.value == nil || (found.map { $0 < required } ?? false) {
                return record(
                    .boundedStaleness,
                    "a read bounded at \(millis) ms of \(String(decoding: read.key, as: UTF8.self)) "
                        + "returned \(found.map { "index \($0)" } ?? "an older state") though "
                        + "index \(required) was acknowledged \((read.invokedMicros - horizon) / 1_000) ms "
                        + "or more before it")
            }
        }
    }
}
