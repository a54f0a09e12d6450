import CohortCore

/// How a sorted set's elements are laid out: each member twice, so that both lookups by member
/// and walks in score order are ordered-index operations.
///
///     0x00 · member               → the score (8 bytes, `SortedSetElement.scoreBytes`)
///     0x01 · score bytes · member → empty (score order; not counted in the header)
///
/// Score bytes are a double's bits made to sort as the number does (flip every bit of a
/// negative, the sign bit of a positive; big-endian), so members of equal score follow in
/// byte order, as Redis orders them.
public enum SortedSetElement {
    static let memberTag: UInt8 = 0
    static let orderTag: UInt8 = 1

    /// The 8 bytes that sort as `score` does. -0 sorts as 0.
    public static func scoreBytes(_ score: Double) -> [UInt8] {
        let bits = (score == 0 ? 0.0 : score).bitPattern
        let ordered = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        return (0..<8).map { UInt8(truncatingIfNeeded: ordered >> (56 - 8 * UInt64($0))) }
    }

    /// The score 8 score bytes stand for.
    public static func score<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Double? {
        guard bytes.count == 8 else { return nil }
        let ordered = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let bits = ordered & (1 << 63) != 0 ? ordered & ~(1 << 63) : ~ordered
        return Double(bitPattern: bits)
    }

    static func member(_ member: [UInt8]) -> [UInt8] { [memberTag] + member }

    static func order(_ member: [UInt8], score: Double) -> [UInt8] {
        [orderTag] + scoreBytes(score) + member
    }
}

extension StorageTransaction {
    /// The score of `member` in `zset`; nil when it is not a member.
    public func score(of member: [UInt8], in zset: CollectionHandle) throws -> Double? {
        guard let bytes = try element(SortedSetElement.member(member), of: zset) else {
            return nil
        }
        guard let score = SortedSetElement.score(bytes) else {
            throw StorageError.corrupt(
                file: "sorted set", offset: 0, reason: "a member's score is \(bytes.count) bytes")
        }
        return score
    }

    /// Gives `member` `score` in `zset`. Returns true when the member is new.
    @discardableResult
    public mutating func setScore(
        _ score: Double, of member: [UInt8], in zset: inout CollectionHandle
    ) throws -> Bool {
        if let old = try self.score(of: member, in: zset) {
            if old == score { return false }
            removeElement(SortedSetElement.order(member, score: old), from: &zset, counted: false)
        }
        let isNew = try putElement(
            SortedSetElement.member(member), value: SortedSetElement.scoreBytes(score), in: &zset)
        try putElement(
            SortedSetElement.order(member, score: score), value: [], in: &zset, counted: false)
        return isNew
    }

    /// Removes `member` from `zset`. Returns true when it was there.
    @discardableResult
    public mutating func removeMember(
        _ member: [UInt8], from zset: inout CollectionHandle
    ) throws -> Bool {
        guard let old = try score(of: member, in: zset) else { return false }
        removeElement(SortedSetElement.member(member), from: &zset)
        removeElement(SortedSetElement.order(member, score: old), from: &zset, counted: false)
        return true
    }

    /// Calls `body` with the members of `zset` in score order (then byte order), from the
    /// first whose score is at least `minimum` (from the lowest when nil), until it returns
    /// false.
    public func forEachByScore(
        of zset: CollectionHandle, from minimum: Double? = nil,
        _ body: (_ member: [UInt8], _ score: Double) throws -> Bool
    ) throws {
        // Keys after the cursor: every order entry whose score bytes are at least the
        // minimum's (an entry is longer than the cursor it extends).
        let cursor = [SortedSetElement.orderTag] + (minimum.map(SortedSetElement.scoreBytes) ?? [])
        // The cursor is exclusive: the empty member at exactly the minimum is its own key.
        if let minimum, hasElement(cursor, of: zset) {
            guard try body([], minimum) else { return }
        }
        try forEachElement(of: zset, after: cursor) { element, _ in
            guard element.count >= 9, element[0] == SortedSetElement.orderTag,
                let score = SortedSetElement.score(element[1..<9])
            else { return false }
            return try body(Array(element[9...]), score)
        }
    }

    /// Calls `body` with the members of `zset` in byte order and their scores, from the first
    /// after `cursor` (a member; from the first when nil), until it returns false.
    public func forEachMember(
        of zset: CollectionHandle, after cursor: [UInt8]? = nil,
        _ body: (_ member: [UInt8], _ score: Double) throws -> Bool
    ) throws {
        try forEachElement(of: zset, after: cursor.map(SortedSetElement.member)) {
            element, value in
            guard element.first == SortedSetElement.memberTag,
                let score = SortedSetElement.score(value)
            else { return false }
            return try body(Array(element[1...]), score)
        }
    }
}
