import CohortCore

/// Bytes of ``LeaderlessMessage``: a tag byte (0x41 and up), then the case's fields (integers little-endian,
/// byte strings with a u32 length). Decoding never traps: bytes that do not form a message
/// give nil, and the receiver drops them as it drops a corrupt frame.
public enum LeaderlessMessageCodec {
    /// Keys and values a message may carry, each (the RESP limits are far lower).
    public static let bytesMax = 1 << 29
    /// Added to every message's tag: leaderless frames share the forwarding channel with
    /// proxied commands (tags 1 to 4), and must never read as one.
    static let tagBase: UInt8 = 0x40

    /// Entries a digest or exchange message may carry.
    public static let entriesMax = 1 << 20

    public static func encode(_ message: LeaderlessMessage) -> [UInt8] {
        var out: [UInt8] = []
        switch message {
        case .replicate(let request, let key, let state):
            out.append(tagBase + 1)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .replicated(let request):
            out.append(tagBase + 2)
            ByteCoding.append(request.rawValue, to: &out)
        case .replicateHint(let request, let key, let state, let home):
            out.append(tagBase + 13)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
            ByteCoding.append(home.rawValue, to: &out)
        case .handoff(let key, let state):
            out.append(tagBase + 14)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .handedOff(let key, let digest):
            out.append(tagBase + 15)
            ByteCoding.appendBytes(key, to: &out)
            ByteCoding.append(digest, to: &out)
        case .read(let request, let key):
            out.append(tagBase + 3)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
        case .readReply(let request, let state):
            out.append(tagBase + 4)
            ByteCoding.append(request.rawValue, to: &out)
            state.encode(into: &out)
        case .repair(let key, let state):
            out.append(tagBase + 5)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .forwardWrite(let request, let key, let value, let context, let quorum):
            out.append(tagBase + 6)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            if let value {
                out.append(1)
                ByteCoding.appendBytes(value, to: &out)
            } else {
                out.append(0)
            }
            context.encode(into: &out)
            out.append(quorum)
        case .forwardedWriteDone(let request, let result):
            out.append(tagBase + 7)
            ByteCoding.append(request.rawValue, to: &out)
            switch result {
            case .written(let dot, let context):
                out.append(1)
                ByteCoding.append(dot.replica.rawValue, to: &out)
                ByteCoding.append(dot.counter, to: &out)
                context.encode(into: &out)
            case .failed(let reason):
                out.append(0)
                ByteCoding.appendBytes(Array(reason.utf8), to: &out)
            }
        case .tombstoneQuery(let entries):
            out.append(tagBase + 16)
            appendDigests(entries, to: &out)
        case .tombstonesHeld(let entries):
            out.append(tagBase + 17)
            appendDigests(entries, to: &out)
        case .treeRoots(let partitions, let roots):
            out.append(tagBase + 12)
            ByteCoding.append(UInt32(partitions.count), to: &out)
            for partition in partitions { ByteCoding.append(partition, to: &out) }
            appendHashes(roots, to: &out)
        case .treeDiffering(let partitions):
            out.append(tagBase + 18)
            ByteCoding.append(UInt32(partitions.count), to: &out)
            for partition in partitions { ByteCoding.append(partition, to: &out) }
        case .treeInterior(let partition, let hashes):
            out.append(tagBase + 10)
            ByteCoding.append(partition, to: &out)
            appendHashes(hashes, to: &out)
        case .treeLeaves(let partition, let interior, let hashes):
            out.append(tagBase + 11)
            ByteCoding.append(partition, to: &out)
            appendIndexes(interior, to: &out)
            appendHashes(hashes, to: &out)
        case .digests(let partition, let leaves, let entries):
            out.append(tagBase + 8)
            ByteCoding.append(partition, to: &out)
            appendIndexes(leaves, to: &out)
            appendDigests(entries, to: &out)
        case .exchange(let partition, let states, let wanted):
            out.append(tagBase + 9)
            ByteCoding.append(partition, to: &out)
            ByteCoding.append(UInt32(states.count), to: &out)
            for entry in states {
                ByteCoding.appendBytes(entry.key, to: &out)
                entry.state.encode(into: &out)
            }
            ByteCoding.append(UInt32(wanted.count), to: &out)
            for key in wanted { ByteCoding.appendBytes(key, to: &out) }
        }
        return out
    }

    /// The message `bytes` hold whole, or nil.
    public static func decode(_ bytes: [UInt8]) -> LeaderlessMessage? {
        var reader = ByteCoding.Reader(bytes)
        guard let byte = reader.byte(), byte > tagBase, byte < tagBase + 0x40 else { return nil }
        let tag = byte - tagBase
        let message: LeaderlessMessage?
        switch tag {
        case 1:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .replicate(request: RequestID(request), key: key, state: state)
        case 2:
            message = reader.uint64().map { .replicated(request: RequestID($0)) }
        case 13:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let state = SiblingSet.decode(from: &reader), let home = reader.uint64()
            else { return nil }
            message = .replicateHint(
                request: RequestID(request), key: key, state: state, home: NodeID(home))
        case 14:
            guard let key = bytesField(&reader), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .handoff(key: key, state: state)
        case 15:
            guard let key = bytesField(&reader), let digest = reader.uint64() else { return nil }
            message = .handedOff(key: key, digest: digest)
        case 3:
            guard let request = reader.uint64(), let key = bytesField(&reader) else { return nil }
            message = .read(request: RequestID(request), key: key)
        case 4:
            guard let request = reader.uint64(), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .readReply(request: RequestID(request), state: state)
        case 5:
            guard let key = bytesField(&reader), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .repair(key: key, state: state)
        case 6:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let presence = reader.byte(), presence <= 1
            else { return nil }
            var value: [UInt8]?
            if presence == 1 {
                guard let bytes = bytesField(&reader) else { return nil }
                value = bytes
            }
            guard let context = VersionVector.decode(from: &reader), let quorum = reader.byte()
            else { return nil }
            message = .forwardWrite(
                request: RequestID(request), key: key, value: value, context: context,
                quorum: quorum)
        case 7:
            guard let request = reader.uint64(), let kind = reader.byte() else { return nil }
            switch kind {
            case 1:
                guard let replica = reader.uint64(), let counter = reader.uint64(), counter > 0,
                    let context = VersionVector.decode(from: &reader)
                else { return nil }
                let dot = Dot(replica: NodeID(replica), counter: counter)
                message = .forwardedWriteDone(
                    request: RequestID(request), result: .written(dot: dot, context: context))
            case 0:
                guard let reason = bytesField(&reader) else { return nil }
                message = .forwardedWriteDone(
                    request: RequestID(request),
                    result: .failed(String(decoding: reason, as: UTF8.self)))
            default:
                return nil
            }
        case 16, 17:
            guard let entries = digestEntries(&reader) else { return nil }
            message =
                tag == 16 ? .tombstoneQuery(entries: entries) : .tombstonesHeld(entries: entries)
        case 12:
            guard let count = reader.uint32(), Int(count) <= MerkleTree.leafCount * 64,
                Int(count) * 4 <= reader.remaining
            else { return nil }
            var partitions: [UInt32] = []
            for _ in 0..<count {
                guard let partition = reader.uint32() else { return nil }
                partitions.append(partition)
            }
            guard let roots = hashes(&reader, countMax: Int(count)), roots.count == partitions.count
            else { return nil }
            message = .treeRoots(partitions: partitions, roots: roots)
        case 18:
            guard let count = reader.uint32(), Int(count) <= entriesMax,
                Int(count) * 4 <= reader.remaining
            else { return nil }
            var partitions: [UInt32] = []
            for _ in 0..<count {
                guard let partition = reader.uint32() else { return nil }
                partitions.append(partition)
            }
            message = .treeDiffering(partitions: partitions)
        case 10:
            guard let partition = reader.uint32(), let hashes = hashes(&reader) else {
                return nil
            }
            message = .treeInterior(partition: partition, hashes: hashes)
        case 11:
            guard let partition = reader.uint32(), let interior = indexes(&reader),
                let hashes = hashes(&reader)
            else { return nil }
            message = .treeLeaves(partition: partition, interior: interior, hashes: hashes)
        case 8:
            guard let partition = reader.uint32(), let leaves = indexes(&reader),
                let entries = digestEntries(&reader)
            else { return nil }
            message = .digests(partition: partition, leaves: leaves, entries: entries)
        case 9:
            guard let partition = reader.uint32(), let count = reader.uint32(),
                Int(count) <= entriesMax
            else { return nil }
            var states: [KeyState] = []
            for _ in 0..<count {
                guard let key = bytesField(&reader), let state = SiblingSet.decode(from: &reader)
                else { return nil }
                states.append(KeyState(key: key, state: state))
            }
            guard let wantedCount = reader.uint32(), Int(wantedCount) <= entriesMax else {
                return nil
            }
            var wanted: [[UInt8]] = []
            for _ in 0..<wantedCount {
                guard let key = bytesField(&reader) else { return nil }
                wanted.append(key)
            }
            message = .exchange(partition: partition, states: states, wanted: wanted)
        default:
            return nil
        }
        return reader.remaining == 0 ? message : nil
    }

    private static func appendDigests(_ entries: [KeyDigest], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(entries.count), to: &out)
        for entry in entries {
            ByteCoding.appendBytes(entry.key, to: &out)
            ByteCoding.append(entry.digest, to: &out)
            entry.clock.encode(into: &out)
        }
    }

    private static func digestEntries(_ reader: inout ByteCoding.Reader) -> [KeyDigest]? {
        guard let count = reader.uint32(), Int(count) <= entriesMax else { return nil }
        var entries: [KeyDigest] = []
        for _ in 0..<count {
            guard let key = bytesField(&reader), let digest = reader.uint64(),
                let clock = VersionVector.decode(from: &reader)
            else { return nil }
            entries.append(KeyDigest(key: key, digest: digest, clock: clock))
        }
        return entries
    }

    private static func appendHashes(_ hashes: [UInt64], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(hashes.count), to: &out)
        for hash in hashes { ByteCoding.append(hash, to: &out) }
    }

    private static func appendIndexes(_ indexes: [UInt16], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(indexes.count), to: &out)
        for index in indexes {
            out.append(UInt8(truncatingIfNeeded: index))
            out.append(UInt8(truncatingIfNeeded: index >> 8))
        }
    }

    private static func hashes(
        _ reader: inout ByteCoding.Reader, countMax: Int = MerkleTree.leafCount
    ) -> [UInt64]? {
        guard let count = reader.uint32(), Int(count) <= countMax,
            Int(count) * 8 <= reader.remaining
        else { return nil }
        var hashes: [UInt64] = []
        for _ in 0..<count {
            guard let hash = reader.uint64() else { return nil }
            hashes.append(hash)
        }
        return hashes
    }

    private static func indexes(_ reader: inout ByteCoding.Reader) -> [UInt16]? {
        guard let count = reader.uint32(), Int(count) <= MerkleTree.leafCount,
            Int(count) * 2 <= reader.remaining
        else { return nil }
        var indexes: [UInt16] = []
        for _ in 0..<count {
            guard let low = reader.byte(), let high = reader.byte() else { return nil }
            indexes.append(UInt16(low) | UInt16(high) << 8)
        }
        return indexes
    }

    private static func bytesField(_ reader: inout ByteCoding.Reader) -> [UInt8]? {
        guard let bytes = reader.lengthPrefixed(), bytes.count <= bytesMax else { return nil }
        return bytes
    }
}
