/// Staleness you can see (issue 19, item 8): for writes this node coordinated, how long after
/// the client's acknowledgement every home replica held the write, from the replicas' own
/// acknowledgements, and a PBS-style estimate (Bailis et al., "Probabilistically Bounded
/// Staleness") of the chance that a read of R replicas, started t ms after a write's
/// acknowledgement, sees it.
///
/// It keeps the last ``samplesMax`` writes' per-replica delays (relative to the
/// acknowledgement, zero for replicas that had it by then). The estimate for t is the mean,
/// over those writes, of the probability that R replicas chosen at random include one that
/// had the write by t: 1 - C(m, R) / C(N, R), with m the replicas that had not.
public struct LeaderlessStaleness: Hashable, Sendable {
    /// Writes kept.
    public static let samplesMax = 1_024

    /// Per kept write: each home replica's delay after the acknowledgement, in ms.
    public private(set) var samples: [[UInt64]] = []
    var next = 0
    /// Acknowledged writes whose home replicas did not all confirm before the deadline.
    public internal(set) var notFullyReplicated = 0
    /// Writes measured since start.
    public private(set) var measured = 0

    public init() {}

    mutating func record(acknowledgedAt: UInt64, replicasAt: [UInt64]) {
        let delays = replicasAt.map { $0 > acknowledgedAt ? $0 - acknowledgedAt : 0 }
        measured += 1
        if samples.count < Self.samplesMax {
            samples.append(delays)
        } else {
            samples[next] = delays
            next = (next + 1) % Self.samplesMax
        }
    }

    /// The `fraction` percentile (0...1) of the time until every home replica had a write,
    /// in ms after its acknowledgement; nil without samples.
    public func fullReplicationMillis(percentile fraction: Double) -> UInt64? {
        let all = samples.map { $0.max() ?? 0 }.sorted()
        guard !all.isEmpty else { return nil }
        let index = min(all.count - 1, Int((Double(all.count - 1) * fraction).rounded(.up)))
        return all[index]
    }

    /// The estimated probability that a read of `readQuorum` replicas, started `millis`
    /// after a write's acknowledgement, sees it; nil without samples.
    public func probabilityReadSees(afterMillis millis: UInt64, readQuorum: Int) -> Double? {
        guard !samples.isEmpty else { return nil }
        var total = 0.0
        for delays in samples {
            let replicas = delays.count
            let missing = delays.filter { $0 > millis }.count
            total += 1 - Self.choose(missing, readQuorum) / Self.choose(replicas, readQuorum)
        }
        return total / Double(samples.count)
    }

    static func choose(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        var result = 1.0
        for i in 0..<k { result = result * Double(n - i) / Double(i + 1) }
        return result
    }
}
