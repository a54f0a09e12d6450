import CohortCore

/// The key-value state machine each simulated node applies committed entries to, in log
/// order. Requests are applied at most once per (client, sequence), so a duplicated or
/// re-sent request does not apply twice (Raft dissertation §6.3).
public struct KeyValueStateMachine: Hashable, Sendable {
    /// A client's latest applied request and its response, to answer duplicates.
    struct Session: Hashable, Sendable {
        var sequence: UInt64
        var response: KeyValueResponse
    }

    /// Current values by key.
    public private(set) var values: [Int: Int] = [:]
    /// The index of the last applied entry.
    public private(set) var appliedIndex: LogIndex = .zero
    /// Identities of every applied write, as `writeIdentity(client:sequence:)`; the lost-write
    /// check looks acknowledged writes up here.
    public private(set) var appliedWrites: Set<UInt64> = []
    private var sessions: [UInt64: Session] = [:]

    /// An empty state machine.
    public init() {}

    /// A state machine with the given contents (used by snapshot decoding).
    init(
        values: [Int: Int], appliedIndex: LogIndex, appliedWrites: Set<UInt64>,
        sessions: [(UInt64, Session)]
    ) {
        self.values = values
        self.appliedIndex = appliedIndex
        self.appliedWrites = appliedWrites
        for (client, session) in sessions { self.sessions[client] = session }
    }

    /// The client sessions sorted by client, for encoding.
    var sessionsForSnapshot: [(UInt64, Session)] {
        sessions.keys.sorted().map { ($0, sessions[$0]!) }
    }

    /// The identity of a write for `appliedWrites`.
    public static func writeIdentity(client: UInt64, sequence: UInt64) -> UInt64 {
        precondition(sequence < 1 << 40, "client sequence \(sequence) overflows the identity")
        return client << 40 | sequence
    }

    /// Notes that the entry at `index` carried no request (an empty or configuration entry).
    public mutating func skip(index: LogIndex) {
        precondition(
            index == appliedIndex.next,
            "applying \(index) out of order: applied index is \(appliedIndex)")
        appliedIndex = index
    }

    /// Applies the request of the entry at `index`, which must follow the applied index.
    public mutating func apply(_ request: KeyValueRequest, at index: LogIndex) -> KeyValueResponse {
        precondition(
            index == appliedIndex.next,
            "applying \(index) out of order: applied index is \(appliedIndex)")
        appliedIndex = index
        if let session = sessions[request.clientID], request.sequence <= session.sequence {
            // A duplicate: answer as the first time only if it is the latest request; older
            // ones can no longer be waited for, so any answer will do.
            return session.response
        }
        let response: KeyValueResponse
        switch request.command {
        case .set(let key, let value):
            values[key] = value
            response = .written
        case .compareAndSet(let key, let expected, let new):
            if values[key] == expected {
                values[key] = new
                response = .compareAndSet(succeeded: true)
            } else {
                response = .compareAndSet(succeeded: false)
            }
        case .read(let key):
            response = .value(values[key])
        }
        if request.command.isWrite {
            appliedWrites.insert(
                Self.writeIdentity(client: request.clientID, sequence: request.sequence))
        }
        sessions[request.clientID] = Session(sequence: request.sequence, response: response)
        return response
    }

    /// A hash of the whole state, independent of dictionary order, so two nodes that applied
    /// the same prefix can be compared cheaply.
    public var digest: UInt64 {
        var hasher = TraceHasher()
        hasher.combine(appliedIndex.rawValue)
        for key in values.keys.sorted() {
            hasher.combine(key)
            hasher.combine(values[key]!)
        }
        for write in appliedWrites.sorted() { hasher.combine(write) }
        for client in sessions.keys.sorted() {
            hasher.combine(client)
            hasher.combine(sessions[client]!.sequence)
        }
        return hasher.value
    }
}
