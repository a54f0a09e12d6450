/// A node of the copy-on-write B+tree behind `OrderedIndex`. A leaf holds keys and slots; an
/// internal node holds `children.count - 1` separators, where every key of `children[i]` is
/// below `keys[i]` and every key of `children[i + 1]` is at or above it.
/// Nodes are shared between snapshots and mutated only when uniquely referenced.
///
/// `prefixes[i]` is always `KeyPrefix(keys[i])`: change keys only through the methods below.
final class OrderedIndexNode: @unchecked Sendable {
    private(set) var keys: [[UInt8]]
    private(set) var prefixes: [KeyPrefix]
    /// A leaf's entries, by reference (see `IndexSlot`): copies of a node share them.
    var slots: [IndexSlot]
    var children: [OrderedIndexNode]
    let isLeaf: Bool

    init(
        isLeaf: Bool, keys: [[UInt8]] = [], slots: [IndexSlot] = [],
        children: [OrderedIndexNode] = []
    ) {
        self.isLeaf = isLeaf
        self.keys = keys
        self.prefixes = keys.map(KeyPrefix.init)
        self.slots = slots
        self.children = children
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

    func insertKey(_ key: [UInt8], at position: Int) {
        keys.insert(key, at: position)
        prefixes.insert(KeyPrefix(key), at: position)
    }

    func removeKey(at position: Int) {
        keys.remove(at: position)
        prefixes.remove(at: position)
    }

    /// Drops the keys from `position` on (a split moved them to a new right node).
    func removeKeys(from position: Int) {
        keys.removeSubrange(position...)
        prefixes.removeSubrange(position...)
    }

    /// True when the node holds nothing and can be unlinked from its parent.
    var isEmpty: Bool { isLeaf ? keys.isEmpty : children.isEmpty }
}
