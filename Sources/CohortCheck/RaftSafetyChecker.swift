import CohortCore

/// Checks Raft's safety properties (``SafetyProperty``) over a whole run, from periodic
/// observations of every node. The simulator calls ``observe(_:step:)`` after each step; the
/// checker remembers what it has seen (the leader of every term, every entry by index and term,
/// every committed and applied entry) so violations that span time are caught too.
///
/// Cost: each call is linear in the entries that changed since the node's previous observation
/// plus, for a leader whose log or the committed set changed, the committed entries it holds.
/// Memory grows with the distinct entries and terms of the run.
public struct RaftSafetyChecker: Sendable {
    /// What the checker remembers about one node between observations.
    private struct NodeMemory: Sendable {
        var term: Term
        var commitIndex: LogIndex
        var appliedIndex: LogIndex
        var firstIndex: LogIndex
        var entries: [ObservedEntry]
        /// Set when the previous observation showed this node leading: every committed record
        /// up to `through` and the first `version` insertions were checked against its log.
        var leaderVerified: (term: Term, through: LogIndex, version: Int)?
        /// Set by ``RaftSafetyChecker/nodeRestarted(_:)``: the next observation may go back.
        var restarted: Bool
    }

    /// Where an entry with a given index and term was first seen.
    private struct EntryRecord: Sendable {
        var payloadDigest: UInt64
        var payloadOmitted: Bool
        /// The term of the entry just before it in the log that showed it; `nil` when compacted.
        var previousTerm: Term?
        var node: NodeID
        var step: UInt64
    }

    /// A committed (or applied) entry and where it was first seen as such.
    private struct CommittedRecord: Sendable {
        var entry: ObservedEntry
        /// The observing node's term at first sight: the entry was committed in this term or
        /// earlier, so every leader of this term or later must hold it.
        var term: Term
        var node: NodeID
        var step: UInt64
    }

    private struct EntryKey: Hashable, Sendable {
        var index: LogIndex
        var term: Term
    }

    private var leaderByTerm: [Term: NodeID] = [:]
    private var entriesSeen: [EntryKey: EntryRecord] = [:]
    private var committed: [LogIndex: CommittedRecord] = [:]
    private var committedIndexMax = LogIndex.zero
    /// The index of every insertion into ``committed``, in order, so that a leader is checked
    /// incrementally against the records added since its previous observation.
    private var committedInsertions: [LogIndex] = []
    private var applied: [LogIndex: CommittedRecord] = [:]
    private var nodes: [NodeID: NodeMemory] = [:]
    /// Violations already reported, so a lasting violation is reported once, not every step.
    private var reported: Set<String> = []

    /// Creates a checker that has seen nothing.
    public init() {}

    /// The leader seen for each term so far, sorted by term.
    public var leadersByTerm: [(term: Term, node: NodeID)] {
        leaderByTerm.sorted { $0.key < $1.key }.map { (term: $0.key, node: $0.value) }
    }

    /// The highest index seen committed on any node.
    public var committedIndexSeenMax: LogIndex { committedIndexMax }

    /// Tells the checker that `node` crashed and restarted: its next observation may show a lower
    /// commit and applied index (volatile state), and its log is re-verified from scratch. Its
    /// term must still not decrease (it is persistent).
    public mutating func nodeRestarted(_ node: NodeID) {
        nodes[node]?.restarted = true
    }

    /// Checks one round of observations (any subset of the nodes) taken at driver step `step`,
    /// and returns the new violations, sorted by node then property. A violation that persists
    /// is reported only the first time.
    public mutating func observe(_ observations: [RaftNodeObservation], step: UInt64)
        -> [SafetyViolation]
    {
        var violations: [SafetyViolation] = []
        var leaders: [(RaftNodeObservation, PendingLeaderCheck)] = []
        for observation in observations.sorted(by: { $0.node < $1.node }) {
            if let check = observe(observation, step: step, into: &violations) {
                leaders.append((observation, check))
            }
        }
        // Leaders last, so that entries seen committed anywhere in this round count.
        for (observation, check) in leaders {
            checkLeaderCompleteness(observation, check, step: step, into: &violations)
        }
        return violations
    }

    private mutating func report(
        _ property: SafetyProperty, _ involved: [NodeID], _ message: String, step: UInt64,
        into violations: inout [SafetyViolation]
    ) {
        let violation = SafetyViolation(
            property: property, step: step, nodes: involved, message: message)
        let signature = "\(property.rawValue)|\(violation.nodes)|\(message)"
        if reported.insert(signature).inserted { violations.append(violation) }
    }

    /// What a leader's Leader Completeness check needs from the first pass over a round.
    private struct PendingLeaderCheck {
        /// What was verified at the node's previous observation, if it led the same term then.
        var verified: (term: Term, through: LogIndex, version: Int)?
        /// The lowest index whose entry changed since the previous observation.
        var lowestChanged: LogIndex?
    }

    /// Checks everything but Leader Completeness; returns what that check needs if the node
    /// leads.
    private mutating func observe(
        _ observation: RaftNodeObservation, step: UInt64, into violations: inout [SafetyViolation]
    ) -> PendingLeaderCheck? {
        let node = observation.node
        let memory = nodes[node]
        let restarted = memory?.restarted ?? false

        // Monotonicity.
        if let memory, observation.term < memory.term {
            report(
                .termMonotonicity, [node],
                "\(node) term went back from \(memory.term) to \(observation.term)",
                step: step, into: &violations)
        }
        if let memory, !restarted, observation.commitIndex < memory.commitIndex {
            report(
                .commitMonotonicity, [node],
                "\(node) commit index went back from \(memory.commitIndex) to "
                    + "\(observation.commitIndex) without a restart",
                step: step, into: &violations)
        }
        if observation.commitIndex > observation.lastIndex {
            report(
                .commitMonotonicity, [node],
                "\(node) commit index \(observation.commitIndex) is beyond its last index "
                    + "\(observation.lastIndex)",
                step: step, into: &violations)
        }
        if let memory, !restarted, observation.appliedIndex < memory.appliedIndex {
            report(
                .appliedMonotonicity, [node],
                "\(node) applied index went back from \(memory.appliedIndex) to "
                    + "\(observation.appliedIndex) without a restart",
                step: step, into: &violations)
        }
        if observation.appliedIndex > observation.commitIndex {
            report(
                .appliedMonotonicity, [node],
                "\(node) applied index \(observation.appliedIndex) is beyond its commit index "
                    + "\(observation.commitIndex)",
                step: step, into: &violations)
        }

        // Election Safety (§5.2).
        if observation.isLeader {
            if let leader = leaderByTerm[observation.term], leader != node {
                report(
                    .electionSafety, [leader, node],
                    "two leaders in \(observation.term): \(leader) and \(node)",
                    step: step, into: &violations)
            } else {
                leaderByTerm[observation.term] = node
            }
        }

        // Entries: Log Matching (§5.3), committed and applied entries (§5.4.3). Entries that
        // are unchanged since this node's previous observation were verified then.
        let previousCommit = restarted ? LogIndex.zero : (memory?.commitIndex ?? .zero)
        let previousApplied = restarted ? LogIndex.zero : (memory?.appliedIndex ?? .zero)
        // The lowest index whose entry differs from this node's previous observation.
        var lowestChanged: LogIndex? = nil
        for (offset, entry) in observation.entries.enumerated() {
            let unchanged =
                !restarted
                && memory.map { remembered in
                    guard entry.index >= remembered.firstIndex else { return false }
                    let rememberedOffset = Int(
                        entry.index.rawValue - remembered.firstIndex.rawValue)
                    return rememberedOffset < remembered.entries.count
                        && remembered.entries[rememberedOffset] == entry
                        && (rememberedOffset > 0 || offset == 0)
                } ?? false
            if !unchanged {
                if lowestChanged == nil { lowestChanged = entry.index }
                let previousTerm = offset > 0 ? observation.entries[offset - 1].term : nil
                checkEntry(
                    entry, previousTerm: previousTerm, node: node, step: step,
                    into: &violations)
            }
            if !unchanged || entry.index > previousCommit, entry.index <= observation.commitIndex {
                checkCommitted(
                    entry, map: \.committed, observerTerm: observation.term, node: node,
                    step: step, what: "committed", into: &violations)
            }
            if !unchanged || entry.index > previousApplied, entry.index <= observation.appliedIndex
            {
                checkCommitted(
                    entry, map: \.applied, observerTerm: observation.term, node: node, step: step,
                    what: "applied", into: &violations)
            }
        }
        if let memory, lowestChanged == nil,
            observation.lastIndex.rawValue + 1 < memory.firstIndex.rawValue
                + UInt64(memory.entries.count)
        {
            lowestChanged = observation.lastIndex.next
        }

        nodes[node] = NodeMemory(
            term: max(observation.term, memory?.term ?? .zero),
            commitIndex: observation.commitIndex,
            appliedIndex: observation.appliedIndex,
            firstIndex: observation.firstIndex,
            entries: observation.entries,
            leaderVerified: nil,
            restarted: false)
        guard observation.isLeader else { return nil }
        let verified = restarted ? nil : memory?.leaderVerified
        return PendingLeaderCheck(
            verified: verified?.term == observation.term ? verified : nil,
            lowestChanged: lowestChanged)
    }

    /// Log Matching: one payload per (index, term), one predecessor term per (index, term).
    private mutating func checkEntry(
        _ entry: ObservedEntry, previousTerm: Term?, node: NodeID, step: UInt64,
        into violations: inout [SafetyViolation]
    ) {
        let key = EntryKey(index: entry.index, term: entry.term)
        guard var record = entriesSeen[key] else {
            entriesSeen[key] = EntryRecord(
                payloadDigest: entry.payloadDigest, payloadOmitted: entry.payloadOmitted,
                previousTerm: previousTerm, node: node, step: step)
            return
        }
        if record.payloadOmitted && !entry.payloadOmitted {
            // A node with the payload now shows what a witness's metadata stood for.
            record.payloadDigest = entry.payloadDigest
            record.payloadOmitted = false
            entriesSeen[key] = record
        } else if !record.payloadOmitted && !entry.payloadOmitted
            && record.payloadDigest != entry.payloadDigest
        {
            report(
                .logMatching, [record.node, node],
                "entries at \(entry.index) in \(entry.term) differ: \(node) holds digest "
                    + "\(String(entry.payloadDigest, radix: 16)), \(record.node) held "
                    + "\(String(record.payloadDigest, radix: 16)) at step \(record.step)",
                step: step, into: &violations)
        }
        if let previousTerm, let recordedTerm = record.previousTerm, previousTerm != recordedTerm {
            report(
                .logMatching, [record.node, node],
                "logs share \(entry.index)@\(entry.term) but differ before it: at "
                    + "\(entry.index.previous) \(node) holds \(previousTerm), \(record.node) held "
                    + "\(recordedTerm) at step \(record.step)",
                step: step, into: &violations)
        }
        if record.previousTerm == nil, previousTerm != nil {
            record.previousTerm = previousTerm
            entriesSeen[key] = record
        }
    }

    /// State Machine Safety: one entry per committed (or applied) index, forever.
    private mutating func checkCommitted(
        _ entry: ObservedEntry,
        map: WritableKeyPath<RaftSafetyChecker, [LogIndex: CommittedRecord]>,
        observerTerm: Term, node: NodeID, step: UInt64, what: String,
        into violations: inout [SafetyViolation]
    ) {
        guard let record = self[keyPath: map][entry.index] else {
            self[keyPath: map][entry.index] = CommittedRecord(
                entry: entry, term: observerTerm, node: node, step: step)
            if map == \RaftSafetyChecker.committed {
                committedInsertions.append(entry.index)
                committedIndexMax = max(committedIndexMax, entry.index)
            }
            return
        }
        if !record.entry.matches(entry) {
            report(
                .stateMachineSafety, [record.node, node],
                "\(what) entries at \(entry.index) differ: \(node) has \(entry), \(record.node) "
                    + "had \(record.entry) at step \(record.step)",
                step: step, into: &violations)
        }
    }

    /// Leader Completeness (§5.4): every entry committed in this term or earlier is in the
    /// leader's log, unless compacted into its snapshot. Checked incrementally while the node
    /// stays leader of the same term: the part of its log that changed, the committed records
    /// added since, and the records beyond what was verified.
    private mutating func checkLeaderCompleteness(
        _ observation: RaftNodeObservation, _ check: PendingLeaderCheck, step: UInt64,
        into violations: inout [SafetyViolation]
    ) {
        if let verified = check.verified {
            var start = verified.through.next
            if let lowestChanged = check.lowestChanged { start = min(start, lowestChanged) }
            for index in committedInsertions[verified.version...] where index < start {
                checkLeaderCompleteness(
                    observation, from: index, through: index, step: step, into: &violations)
            }
            checkLeaderCompleteness(
                observation, from: start, through: committedIndexMax, step: step,
                into: &violations)
        } else {
            checkLeaderCompleteness(
                observation, from: observation.firstIndex, through: committedIndexMax,
                step: step, into: &violations)
        }
        nodes[observation.node]!.leaderVerified = (
            observation.term, committedIndexMax, committedInsertions.count
        )
    }

    /// Leader Completeness for one leader's observation, over committed indexes in
    /// `first...last` that the leader has not compacted.
    private mutating func checkLeaderCompleteness(
        _ leader: RaftNodeObservation, from first: LogIndex, through last: LogIndex,
        step: UInt64, into violations: inout [SafetyViolation]
    ) {
        var index = max(first, leader.firstIndex)
        while index <= last {
            defer { index = index.next }
            guard let record = committed[index], record.term <= leader.term else { continue }
            let held = leader.entry(at: index)
            if held.map({ $0.matches(record.entry) }) != true {
                let heldText = held.map { "holds \($0)" } ?? "holds nothing there"
                report(
                    .leaderCompleteness, [leader.node, record.node],
                    "leader \(leader.node) of \(leader.term) lacks entry \(record.entry) committed "
                        + "by \(record.term) (seen on \(record.node) at step \(record.step)); it "
                        + heldText,
                    step: step, into: &violations)
            }
        }
    }
}
