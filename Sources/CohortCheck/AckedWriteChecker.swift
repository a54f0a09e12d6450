/// Finds acknowledged writes that were lost.
///
/// What it guarantees, given acknowledged writes with logical invocation and acknowledgement
/// times:
///
/// - ``check(committedLog:)``: every acknowledged write (key, value) appears in the committed
///   log (`missing` otherwise), and for two acknowledged writes A and B of one key where A was
///   acknowledged before B was invoked, some occurrence of A precedes some occurrence of B in the
///   log (`overwrittenByOlderWrite` otherwise). Sound and complete for these two properties when
///   the values written to a key are unique; with repeated values an occurrence may be credited
///   to the wrong write, so a loss can be missed, but nothing correct is ever reported.
/// - ``checkFinalState(of:finalValues:checker:)``: the values read after the cluster healed are
///   explained by a linearization of the whole history in which every `ok` write took effect.
///   This catches lost writes without needing the log, and with repeated values too, as far as
///   the final read can observe them (a write overwritten by later writes leaves no trace in a
///   final read: only the log check sees that).
public struct AckedWriteChecker: Sendable {
    /// The acknowledged writes, in the order they were recorded.
    public private(set) var acknowledged: [AcknowledgedWrite] = []
    /// The logical clock used by ``recordAcknowledged(key:value:)``.
    private var clock = 0

    /// Creates a checker with no acknowledged writes.
    public init() {}

    /// Collects the acknowledged writes of a history: `ok` writes, and `ok` compare-and-sets
    /// (which write their new value).
    public init(history: History) {
        for operation in history.operations {
            guard case .ok = operation.effectiveOutcome,
                let completion = operation.completionPosition
            else { continue }
            let value: [UInt8]?
            switch operation.kind {
            case .read: continue
            case .write(let written): value = written
            case .compareAndSet(_, let new): value = new
            }
            acknowledged.append(
                AcknowledgedWrite(
                    key: operation.key, value: value,
                    invocationPosition: operation.invocationPosition,
                    acknowledgementPosition: completion))
        }
        clock = history.events.count
    }

    /// Records a write acknowledged now, in a world without concurrency: each recorded write is
    /// invoked after the previous one was acknowledged.
    public mutating func recordAcknowledged(key: [UInt8], value: [UInt8]?) {
        acknowledged.append(
            AcknowledgedWrite(
                key: key, value: value, invocationPosition: clock,
                acknowledgementPosition: clock + 1)
        )
        clock += 2
    }

    /// Records an acknowledged write with explicit logical times.
    public mutating func recordAcknowledged(_ write: AcknowledgedWrite) {
        acknowledged.append(write)
        clock = max(clock, write.acknowledgementPosition + 1)
    }

    /// Checks the acknowledged writes against the committed log (all writes the log applies, in
    /// log order). Returns the lost writes in the order they were recorded.
    public func check(committedLog: [CommittedWrite]) -> [LostWrite] {
        struct Occurrences {
            var first: Int
            var last: Int
        }
        var occurrences: [CommittedWrite: Occurrences] = [:]
        for (position, write) in committedLog.enumerated() {
            if occurrences[write] == nil {
                occurrences[write] = Occurrences(first: position, last: position)
            } else {
                occurrences[write]!.last = position
            }
        }
        var lost: [LostWrite] = []
        var writesByKey: [[UInt8]: [Int]] = [:]
        for (position, write) in acknowledged.enumerated() {
            writesByKey[write.key, default: []].append(position)
        }
        var reasons: [Int: LostWrite.Reason] = [:]
        for (position, write) in acknowledged.enumerated()
        where occurrences[CommittedWrite(key: write.key, value: write.value)] == nil {
            reasons[position] = .missing
        }
        for key in writesByKey.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            // For each write B, the older writes are those acknowledged before B was invoked;
            // the one whose first occurrence is latest must still come before B's last one.
            let positions = writesByKey[key]!
            let byAcknowledgement = positions.sorted {
                acknowledged[$0].acknowledgementPosition < acknowledged[$1].acknowledgementPosition
            }
            var latestFirstOccurrence: [(acknowledgement: Int, first: Int, write: Int)] = []
            for position in byAcknowledgement {
                let write = acknowledged[position]
                guard let found = occurrences[CommittedWrite(key: key, value: write.value)] else {
                    continue
                }
                let previous = latestFirstOccurrence.last
                if previous == nil || found.first > previous!.first {
                    latestFirstOccurrence.append(
                        (write.acknowledgementPosition, found.first, position))
                } else {
                    latestFirstOccurrence.append(
                        (write.acknowledgementPosition, previous!.first, previous!.write))
                }
            }
            for position in positions where reasons[position] == nil {
                let write = acknowledged[position]
                let last = occurrences[CommittedWrite(key: key, value: write.value)]!.last
                // The latest entry acknowledged strictly before this write's invocation.
                var low = 0
                var high = latestFirstOccurrence.count
                while low < high {
                    let middle = (low + high) / 2
                    if latestFirstOccurrence[middle].acknowledgement < write.invocationPosition {
                        low = middle + 1
                    } else {
                        high = middle
                    }
                }
                guard low > 0 else { continue }
                let older = latestFirstOccurrence[low - 1]
                if older.first > last {
                    reasons[position] = .overwrittenByOlderWrite(acknowledged[older.write])
                }
            }
        }
        for position in reasons.keys.sorted() {
            lost.append(LostWrite(write: acknowledged[position], reason: reasons[position]!))
        }
        return lost
    }

    /// The history with one final read per key appended after every event, each by a fresh
    /// process and completed at once with the value read after healing. Operations still pending
    /// stay pending: they may have taken effect.
    public static func history(
        _ history: History, withFinalReads finalValues: [(key: [UInt8], value: [UInt8]?)]
    ) -> History {
        var result = history
        var process = (history.operations.map(\.process.rawValue).max() ?? 0) + 1
        for final in finalValues {
            let id = result.invoke(process: ProcessID(process), key: final.key, kind: .read)
            result.complete(id, .ok(final.value))
            process += 1
        }
        return result
    }

    /// Checks that the values read after healing are explained by a linearization of the whole
    /// history (see the type's documentation for what this guarantees).
    public static func checkFinalState(
        of history: History, finalValues: [(key: [UInt8], value: [UInt8]?)],
        checker: LinearizabilityChecker = LinearizabilityChecker()
    ) -> LinearizabilityResult {
        checker.check(Self.history(history, withFinalReads: finalValues))
    }
}
