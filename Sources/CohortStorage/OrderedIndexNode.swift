/// A node of the copy-on-write B+tree behind `OrderedIndex`. A leaf holds keys and entries; an
/// internal node holds `children.count - 1` separators, where every key of `children[i]` is
/// below `keys[i]` and every key of `children[i + 1]` is at or above it.
/// Nodes are shared between snapshots and mutated only when uniquely referenced.
final class OrderedIndexNode: @unchecked Sendable {
    var keys: [[UInt8]]
    var entries: [IndexEntry]
    var children: [OrderedIndexNode]
    let isLeaf: Bool

    init(
        isLeaf: Bool, keys: [[UInt8]] = [], entries: [IndexEntry] = [],
        children: [OrderedIndexNode] = []
    ) {
        self.isLeaf = isLeaf
        self.keys = keys
        self.entries = entries
        self.children = children
    }

    /// A shallow copy: arrays are copied on write, children stay shared.
    func copy() -> OrderedIndexNode {
        OrderedIndexNode(isLeaf: isLeaf, keys: keys, entries: entries, children: children)
    }

    /// True when the node holds nothing and can be unlinked from its parent.
    var isEmpty: Bool { isLeaf ? keys.isEmpty : children.isEmpty }
}
