import Glibc

/// The in-memory ordered index: a copy-on-write B+tree from key (compared as unsigned bytes,
/// lexicographically) to `IndexEntry`. Copying the struct is O(1) and gives an immutable
/// snapshot; later writes copy only the nodes on their path.
///
/// Deletion removes empty nodes but does not rebalance underfull ones: the height stays bounded
/// by the most keys ever held, lookups stay correct, and `flushAll` starts a fresh tree.
struct OrderedIndex: Sendable {
    /// Keys per leaf and children per internal node before a split.
    static let nodeFanoutMax = 64

    private(set) var root = OrderedIndexNode()
    /// Number of keys held.
    private(set) var count = 0

    init() {}

    /// A tree built bottom-up from slots whose keys are already in strictly increasing order,
    /// with no comparisons: a restart's (see `KeyIndex.init(sortedSlots:)`). Nodes are
    /// filled to three quarters so that the first writes after a restart do not split every
    /// node they touch (the arrays are exactly as long as what they hold either way).
    init(sortedSlots slots: [IndexSlot]) {
        count = slots.count
        guard !slots.isEmpty else { return }
        let fill = Self.nodeFanoutMax * 3 / 4
        var level: [(node: OrderedIndexNode, firstKey: [UInt8])] = []
        level.reserveCapacity(slots.count / fill + 1)
        var start = 0
        while start < slots.count {
            let end = min(start + fill, slots.count)
            let leaf = OrderedIndexNode(
                leafOf: Array(slots[start..<end]),
                prefixes: slots[start..<end].map { $0.withKey(KeyPrefix.init) })
            level.append((leaf, slots[start].key))
            start = end
        }
        while level.count > 1 {
            var parents: [(node: OrderedIndexNode, firstKey: [UInt8])] = []
            var first = 0
            while first < level.count {
                let last = min(first + fill, level.count)
                let group = level[first..<last]
                // Every key of children[i + 1] is at or above separator keys[i].
                let node = OrderedIndexNode(
                    separators: group.dropFirst().map(\.firstKey), children: group.map(\.node))
                parents.append((node, group.first!.firstKey))
                first = last
            }
            level = parents
        }
        root = level[0].node
    }

    /// The entry for `key`, if any.
    func get(_ key: [UInt8]) -> IndexEntry? {
        var node = root
        while !node.isLeaf {
            node = node.children[Self.upperBound(node, key)]
        }
        let position = Self.lowerBound(node, key)
        guard position < node.keyCount, node.slots[position].hasKey(key) else { return nil }
        return node.slots[position].entry
    }

    /// Inserts or replaces the entry for `key` when `shouldReplace` accepts the existing one (or
    /// there is none). Returns the previous entry and whether the index changed.
    @discardableResult
    mutating func insert(
        _ key: [UInt8], _ entry: IndexEntry,
        replacingIf shouldReplace: (IndexEntry) -> Bool = { _ in true }
    ) -> (previous: IndexEntry?, changed: Bool) {
        insert(
            key, IndexSlot.make(key: key, entry: entry, generation: 0), replacingIf: shouldReplace)
    }

    /// Inserts `slot` for `key`, or puts it in place of the existing slot when `shouldReplace`
    /// accepts that slot's entry. Returns the previous entry and whether the index changed.
    @discardableResult
    mutating func insert(
        _ key: [UInt8], _ slot: IndexSlot,
        replacingIf shouldReplace: (IndexEntry) -> Bool = { _ in true }
    ) -> (previous: IndexEntry?, changed: Bool) {
        let (previous, changed, split) = Self.insert(
            into: &root, key: key, entry: slot, shouldReplace: shouldReplace)
        if let split {
            root = OrderedIndexNode(separators: [split.separator], children: [root, split.right])
        }
        if previous == nil && changed { count += 1 }
        return (previous, changed)
    }

    /// Removes the entry for `key` and returns it.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> IndexEntry? {
        // Look first, so that removing an absent key copies no shared nodes.
        guard get(key) != nil else { return nil }
        let removed = Self.remove(from: &root, key: key)
        precondition(removed != nil, "key found by get but not by remove")
        count -= 1
        while !root.isLeaf && root.children.count == 1 {
            root = root.children[0]
        }
        if !root.isLeaf && root.children.isEmpty {
            root = OrderedIndexNode()
        }
        return removed
    }

    private static func insert(
        into node: inout OrderedIndexNode, key: [UInt8], entry: IndexSlot,
        shouldReplace: (IndexEntry) -> Bool
    ) -> (IndexEntry?, Bool, (separator: [UInt8], right: OrderedIndexNode)?) {
        if node.isLeaf {
            let prefix = KeyPrefix(key)
            let position = lowerBound(node, key, prefix)
            if position < node.keyCount && node.slots[position].hasKey(key) {
                let previous = node.slots[position].entry
                guard shouldReplace(previous) else { return (previous, false, nil) }
                if !isKnownUniquelyReferenced(&node) { node = node.copy() }
                node.replaceSlot(at: position, with: entry)
                return (previous, true, nil)
            }
            if !isKnownUniquelyReferenced(&node) { node = node.copy() }
            node.insertSlot(entry, prefix: prefix, at: position)
            guard node.keyCount > nodeFanoutMax else { return (nil, true, nil) }
            // A key appended after every other key of the leaf (keys loaded in order) leaves
            // the left half full: splitting in the middle would leave every leaf of an
            // ascending load half empty for good.
            let splitAt = position == node.keyCount - 1 ? position : node.keyCount / 2
            let right = node.splitLeaf(at: splitAt)
            return (nil, true, (right.leafKey(at: 0), right))
        }
        if !isKnownUniquelyReferenced(&node) { node = node.copy() }
        let position = upperBound(node, key)
        let (previous, changed, childSplit) = insert(
            into: &node.children[position], key: key, entry: entry, shouldReplace: shouldReplace)
        guard let childSplit else { return (previous, changed, nil) }
        node.insertSeparator(childSplit.separator, at: position)
        node.children.insert(childSplit.right, at: position + 1)
        guard node.children.count > nodeFanoutMax else { return (previous, changed, nil) }
        return (previous, changed, node.splitInternal(at: node.keyCount / 2))
    }

    private static func remove(from node: inout OrderedIndexNode, key: [UInt8]) -> IndexEntry? {
        if !isKnownUniquelyReferenced(&node) { node = node.copy() }
        if node.isLeaf {
            let position = lowerBound(node, key)
            guard position < node.keyCount, node.slots[position].hasKey(key) else { return nil }
            return node.removeSlot(at: position).entry
        }
        let position = upperBound(node, key)
        let removed = remove(from: &node.children[position], key: key)
        if node.children[position].isEmpty {
            // Dropping the separator on the side of the removed child keeps the invariant
            // children[i] < keys[i] <= children[i + 1] for the neighbours that remain.
            node.children.remove(at: position)
            if node.keyCount > 0 { node.removeSeparator(at: position > 0 ? position - 1 : 0) }
        }
        return removed
    }

    /// Three-way comparison of byte strings as unsigned bytes, shorter prefix first.
    @inline(__always)
    static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right in compare(left, right) }
        }
    }

    /// `compare` of bytes in place.
    @inline(__always)
    static func compare(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>)
        -> Int
    {
        let common = min(left.count, right.count)
        if common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress {
            let result = memcmp(leftBase, rightBase, common)
            if result != 0 { return Int(result) }
        }
        return left.count - right.count
    }

    /// Compares the node's key at `position` with `key` (whose prefix is `prefix`): by the
    /// inline prefixes, and by the bytes only when the prefixes are equal.
    @inline(__always)
    static func compare(
        _ node: OrderedIndexNode, _ position: Int, _ key: [UInt8], _ prefix: KeyPrefix
    ) -> Int {
        let byPrefix = node.prefixes[position].compare(prefix)
        if byPrefix != 0 { return byPrefix }
        return node.isLeaf
            ? node.slots[position].compareKey(key) : compare(node.keys[position], key)
    }

    /// The first position in `node` whose key is at or above `key`.
    static func lowerBound(
        _ node: OrderedIndexNode, _ key: [UInt8], _ prefix: KeyPrefix? = nil
    ) -> Int {
        let prefix = prefix ?? KeyPrefix(key)
        var low = 0
        var high = node.prefixes.count
        while low < high {
            let middle = (low + high) / 2
            if compare(node, middle, key, prefix) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first position in `node` whose key is above `key`.
    static func upperBound(_ node: OrderedIndexNode, _ key: [UInt8]) -> Int {
        let prefix = KeyPrefix(key)
        var low = 0
        var high = node.prefixes.count
        while low < high {
            let middle = (low + high) / 2
            if compare(node, middle, key, prefix) <= 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
