import CohortCore

extension KeyValueStateMachine {
    /// Version byte of the snapshot encoding.
    private static let snapshotFormatVersion: UInt8 = 1

    /// The whole state as bytes for a Raft snapshot, in sorted order so equal states give
    /// equal bytes.
    public func snapshotBytes() -> [UInt8] {
        var writer = ByteWriter()
        writer.byte(Self.snapshotFormatVersion)
        writer.word(appliedIndex.rawValue)
        writer.word(UInt64(values.count))
        for key in values.keys.sorted() {
            writer.integer(key)
            writer.integer(values[key]!)
        }
        writer.word(UInt64(appliedWrites.count))
        for write in appliedWrites.sorted() { writer.word(write) }
        writer.word(UInt64(sessionsForSnapshot.count))
        for (client, session) in sessionsForSnapshot {
            writer.word(client)
            writer.word(session.sequence)
            switch session.response {
            case .written:
                writer.byte(1)
            case .compareAndSet(let succeeded):
                writer.byte(succeeded ? 2 : 3)
            case .value(let value):
                if let value {
                    writer.byte(5)
                    writer.integer(value)
                } else {
                    writer.byte(4)
                }
            }
        }
        return writer.bytes
    }

    /// Rebuilds a state machine from `snapshotBytes()`; nil when the bytes are not one.
    public init?(snapshot bytes: [UInt8]) {
        var reader = ByteReader(bytes: bytes)
        guard reader.byte() == Self.snapshotFormatVersion, let applied = reader.word(),
            let valueCount = reader.word(), valueCount <= UInt64(bytes.count)
        else { return nil }
        var values: [Int: Int] = [:]
        for _ in 0..<valueCount {
            guard let key = reader.integer(), let value = reader.integer() else { return nil }
            values[key] = value
        }
        guard let writeCount = reader.word(), writeCount <= UInt64(bytes.count) else { return nil }
        var writes: Set<UInt64> = []
        for _ in 0..<writeCount {
            guard let write = reader.word() else { return nil }
            writes.insert(write)
        }
        guard let sessionCount = reader.word(), sessionCount <= UInt64(bytes.count) else {
            return nil
        }
        var sessions: [(UInt64, Session)] = []
        for _ in 0..<sessionCount {
            guard let client = reader.word(), let sequence = reader.word(),
                let tag = reader.byte()
            else { return nil }
            let response: KeyValueResponse
            switch tag {
            case 1: response = .written
            case 2: response = .compareAndSet(succeeded: true)
            case 3: response = .compareAndSet(succeeded: false)
            case 4: response = .value(nil)
            case 5:
                guard let value = reader.integer() else { return nil }
                response = .value(value)
            default: return nil
            }
            sessions.append((client, Session(sequence: sequence, response: response)))
        }
        guard reader.isAtEnd else { return nil }
        self.init(
            values: values, appliedIndex: LogIndex(applied), appliedWrites: writes,
            sessions: sessions)
    }
}
