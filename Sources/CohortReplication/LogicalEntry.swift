/// The payload of one replicated log entry: the key-level effects of one client command,
/// decoupled from the storage engine's record format. Applying it is idempotent: every effect
/// states a key's whole new state.
public struct LogicalEntry: Hashable, Sendable {
    /// Every key is deleted before `effects` apply (FLUSHDB / FLUSHALL).
    public var flushesAll: Bool
    /// The effects, in key order, at most one per key.
    public var effects: [KeyEffect]

    /// Creates an entry.
    public init(flushesAll: Bool = false, effects: [KeyEffect] = []) {
        self.flushesAll = flushesAll
        self.effects = effects
    }

    /// True when applying the entry changes nothing (a command that only observed state; its
    /// entry still orders it in the log and confirms leadership).
    public var isEmpty: Bool { !flushesAll && effects.isEmpty }
}
