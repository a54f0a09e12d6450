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

    private(set) var root = OrderedIndexNode(isLeaf: true)
    /// Number of keys held.
    private(set) var count = 0

    init() {}

    /// A tree built bottom-up from keys already in strictly increasing order and their slots,
    /// with no comparisons: a restart's (see `KeyIndex.init(sortedKeys:entries:)`). Nodes are
    /// filled to three quarters so that the first writes after a restart do not split every
    /// node they touch.
    init(sortedKeys keys: [[UInt8]], slots: [IndexSlot]) {
        precondition(keys.count == slots.count, "\(keys.count) keys for \(slots.count) slots")
        count = keys.count
        guard !keys.isEmpty else { return }
        let fill = Self.nodeFanoutMax * 3 / 4
        var level: [(node: OrderedIndexNode, firstKey: [UInt8])] = []
        level.reserveCapacity(keys.count / fill + 1)
        var start = 0
        while start < keys.count {
            let end = min(start + fill, keys.count)
            let leaf = OrderedIndexNode(
                isLeaf: true, keys: Array(keys[start..<end]), slots: Array(slots[start..<end]))
            level.append((leaf, keys[start]))
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
                    isLeaf: false, keys: group.dropFirst().map(\.firstKey),
                    children: group.map(\.node))
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
        guard position < node.keys.count, Self.compare(node.keys[position], key) == 0 else {
            return nil
        }
        return node.slots[position].entry
    }

    /// Inserts or replaces the entry for `key` when `shouldReplace` accepts the existing one (or
    /// there is none). Returns the previous entry and whether the index changed.
    @discardableResult
    mutating func insert(
        _ key: [UInt8], _ entry: IndexEntry,
        replacingIf shouldReplace: (IndexEntry) -> Bool = { _ in true }
    ) -> (previous: IndexEntry?, changed: Bool) {
        insert(key, IndexSlot(entry, generation: 0), replacingIf: shouldReplace)
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
            root = OrderedIndexNode(
                isLeaf: false, keys: [split.separator], children: [root, split.right])
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
            root = OrderedIndexNode(isLeaf: true)
        }
        return removed
    }

    private static func insert(
        into node: inout OrderedIndexNode, key: [UInt8], entry: IndexSlot,
        shouldReplace: (IndexEntry) -> Bool
    ) -> (IndexEntry?, Bool, (separator: [UInt8], right: OrderedIndexNode)?) {
        if node.isLeaf {
            let position = lowerBound(node, key)
            if position < node.keys.count && compare(node.keys[position], key) == 0 {
                let previous = node.slots[position].entry
                guard shouldReplace(previous) else { return (previous, false, nil) }
                if !isKnownUniquelyReferenced(&node) { node = node.copy() }
                node.slots[position] = entry
                return (previous, true, nil)
            }
            if !isKnownUniquelyReferenced(&node) { node = node.copy() }
            node.insertKey(key, at: position)
            node.slots.insert(entry, at: position)
            guard node.keys.count > nodeFanoutMax else { return (nil, true, nil) }
            let middle = node.keys.count / 2
            let right = OrderedIndexNode(
                isLeaf: true, keys: Array(node.keys[middle...]),
                slots: Array(node.slots[middle...]))
            node.removeKeys(from: middle)
            node.slots.removeSubrange(middle...)
            return (nil, true, (right.keys[0], right))
        }
        if !isKnownUniquelyReferenced(&node) { node = node.copy() }
        let position = upperBound(node, key)
        let (previous, changed, childSplit) = insert(
            into: &node.children[position], key: key, entry: entry, shouldReplace: shouldReplace)
        guard let childSplit else { return (previous, changed, nil) }
        node.insertKey(childSplit.separator, at: position)
        node.children.insert(childSplit.right, at: position + 1)
        guard node.children.count > nodeFanoutMax else { return (previous, changed, nil) }
        let middle = node.keys.count / 2
        let separator = node.keys[middle]
        let right = OrderedIndexNode(
            isLeaf: false, keys: Array(node.keys[(middle + 1)...]),
            children: Array(node.children[(middle + 1)...]))
        node.removeKeys(from: middle)
        node.children.removeSubrange((middle + 1)...)
        return (previous, changed, (separator, right))
    }

    private static func remove(from node: inout OrderedIndexNode, key: [UInt8]) -> IndexEntry? {
        if !isKnownUniquelyReferenced(&node) { node = node.copy() }
        if node.isLeaf {
            let position = lowerBound(node, key)
            guard position < node.keys.count, compare(node.keys[position], key) == 0 else {
                return nil
            }
            node.removeKey(at: position)
            return node.slots.remove(at: position).entry
        }
        let position = upperBound(node, key)
        let removed = remove(from: &node.children[position], key: key)
        if node.children[position].isEmpty {
            // Dropping the separator on the side of the removed child keeps the invariant
            // children[i] < keys[i] <= children[i + 1] for the neighbours that remain.
            node.children.remove(at: position)
            if !node.keys.isEmpty { node.removeKey(at: position > 0 ? position - 1 : 0) }
        }
        return removed
    }

    /// Three-way comparison of byte strings as unsigned bytes, shorter prefix first.
    @inline(__always)
    static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right in
                let common = min(left.count, right.count)
                if common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress {
                    let result = memcmp(leftBase, rightBase, common)
                    if result != 0 { return Int(result) }
                }
                return left.count - right.count
            }
        }
    }

    /// Compares the node's key at `position` with `key` (whose prefix is `prefix`): by the
    /// inline prefixes, and by the bytes only when the prefixes are equal.
    @inline(__always)
    static func compare(
        _ node: OrderedIndexNode, _ position: Int, _ key: [UInt8], _ prefix: KeyPrefix
    ) -> Int {
        let byPrefix = node.prefixes[position].compare(prefix)
        return byPrefix != 0 ? byPrefix : compare(node.keys[position], key)
    }

    /// The first position in `node` whose key is at or above `key`.
    static func lowerBound(_ node: OrderedIndexNode, _ key: [UInt8]) -> Int {
        let prefix = KeyPrefix(key)
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
