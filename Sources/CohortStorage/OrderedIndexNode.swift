/// A node of the copy-on-write B+tree behind `OrderedIndex`. A leaf holds slots, each with its
/// key (see `IndexSlot`); an internal node holds `children.count - 1` separator keys, where
/// every key of `children[i]` is below `keys[i]` and every key of `children[i + 1]` is at or
/// above it. Both keep each key's `KeyPrefix`, which binary searches compare first.
/// Nodes are shared between snapshots and mutated only when uniquely referenced.
///
/// `prefixes[i]` is always the prefix of key `i` (a leaf's slot's, an internal node's
/// separator's): change them only through the methods below.
final class OrderedIndexNode: @unchecked Sendable {
    /// An internal node's separators; empty in a leaf, whose keys are in its slots.
    private(set) var keys: [[UInt8]]
    private(set) var prefixes: [KeyPrefix]
    /// A leaf's entries, by reference (see `IndexSlot`): copies of a node share them.
    private(set) var slots: [IndexSlot]
    var children: [OrderedIndexNode]
    let isLeaf: Bool

    /// A leaf of `slots`, with their keys' prefixes in the same order.
    init(leafOf slots: [IndexSlot], prefixes: [KeyPrefix]) {
        precondition(slots.count == prefixes.count, "\(slots.count) slots, \(prefixes.count)")
        self.isLeaf = true
        self.keys = []
        self.prefixes = prefixes
        self.slots = slots
        self.children = []
    }

    /// An internal node.
    init(separators: [[UInt8]], children: [OrderedIndexNode]) {
        self.isLeaf = false
        self.keys = separators
        self.prefixes = separators.map(KeyPrefix.init)
        self.slots = []
        self.children = children
    }

    /// An empty leaf.
    convenience init() {
        self.init(leafOf: [], prefixes: [])
    }

    private init(copying node: OrderedIndexNode) {
        isLeaf = node.isLeaf
        keys = node.keys
        prefixes = node.prefixes
        slots = node.slots
        children = node.children
    }

    /// A shallow copy: arrays are copied on write, children stay shared.
    func copy() -> OrderedIndexNode {
        OrderedIndexNode(copying: self)
    }

    /// How many keys a leaf holds, or separators an internal node.
    var keyCount: Int { prefixes.count }

    /// A leaf's key at `position` (a copy).
    func leafKey(at position: Int) -> [UInt8] { slots[position].key }

    func insertSlot(_ slot: IndexSlot, prefix: KeyPrefix, at position: Int) {
        slots.insert(slot, at: position)
        prefixes.insert(prefix, at: position)
    }

    func replaceSlot(at position: Int, with slot: IndexSlot) {
        slots[position] = slot
    }

    func removeSlot(at position: Int) -> IndexSlot {
        prefixes.remove(at: position)
        return slots.remove(at: position)
    }

    func insertSeparator(_ key: [UInt8], at position: Int) {
        keys.insert(key, at: position)
        prefixes.insert(KeyPrefix(key), at: position)
    }

    func removeSeparator(at position: Int) {
        keys.remove(at: position)
        prefixes.remove(at: position)
    }

    /// Moves the entries from `position` on to a new leaf (a split), which it returns. Both
    /// halves get arrays of their own size: the insert that overfilled the node had doubled
    /// its arrays' capacity, and a half kept in them would hold a quarter of what they
    /// reserve (a million keys loaded in order left 96 bytes a key in leaf arrays).
    func splitLeaf(at position: Int) -> OrderedIndexNode {
        let right = OrderedIndexNode(
            leafOf: Array(slots[position...]), prefixes: Array(prefixes[position...]))
        slots = Array(slots[..<position])
        prefixes = Array(prefixes[..<position])
        return right
    }

    /// Moves the separators after `position` and the children after `position` to a new
    /// internal node (a split), and returns it with the separator at `position`, which goes up.
    func splitInternal(at position: Int) -> (separator: [UInt8], right: OrderedIndexNode) {
        let separator = keys[position]
        let right = OrderedIndexNode(
            separators: Array(keys[(position + 1)...]),
            children: Array(children[(position + 1)...]))
        keys = Array(keys[..<position])
        prefixes = Array(prefixes[..<position])
        children = Array(children[...position])
        return (separator, right)
    }

    /// True when the node holds nothing and can be unlinked from its parent.
    var isEmpty: Bool { isLeaf ? slots.isEmpty : children.isEmpty }
}
