extension OrderedIndex {
    /// Walks the keys of one version of the tree in order. Holds its nodes, so it stays valid
    /// (and sees no later writes) while the index it came from changes.
    struct Iterator: IteratorProtocol, Sendable {
        private var stack: [(node: OrderedIndexNode, position: Int)] = []

        /// Starts at the first key above `cursor`, or at the first key when `cursor` is nil.
        init(root: OrderedIndexNode, after cursor: [UInt8]?) {
            var node = root
            while !node.isLeaf {
                let child = cursor.map { OrderedIndex.upperBound(node, $0) } ?? 0
                stack.append((node, child + 1))
                node = node.children[child]
            }
            stack.append((node, cursor.map { OrderedIndex.upperBound(node, $0) } ?? 0))
        }

        mutating func next() -> (key: [UInt8], entry: IndexEntry)? {
            nextSlot().map { ($0.key, $0.slot.entry) }
        }

        /// The next key with the slot holding its entry (and its cached value).
        mutating func nextSlot() -> (key: [UInt8], slot: IndexSlot)? {
            nextSlotOnly().map { ($0.key, $0) }
        }

        /// The next slot, whose key the caller reads in place (`IndexSlot.withKey`) rather
        /// than as a copy: a range read of a list's items copied each item's key otherwise.
        mutating func nextSlotOnly() -> IndexSlot? {
            while let top = stack.last {
                let node = top.node
                let position = top.position
                if node.isLeaf {
                    if position < node.keyCount {
                        stack[stack.count - 1].position += 1
                        return node.slots[position]
                    }
                    stack.removeLast()
                } else if position < node.children.count {
                    stack[stack.count - 1].position += 1
                    stack.append((node.children[position], 0))
                } else {
                    stack.removeLast()
                }
            }
            return nil
        }
    }

    /// An iterator over the keys above `cursor` (all keys when nil), in order.
    func makeIterator(after cursor: [UInt8]? = nil) -> Iterator {
        Iterator(root: root, after: cursor)
    }
}

extension OrderedIndex {
    /// Calls `body` with each leaf of this version of the tree, in key order: for walks of the
    /// whole index that read every key (the index checkpoint), without an iterator's copy of
    /// each key and entry.
    func forEachLeaf<Failure: Error>(
        _ body: (OrderedIndexNode) throws(Failure) -> Void
    ) throws(Failure) {
        var stack: [(node: OrderedIndexNode, next: Int)] = [(root, 0)]
        while let top = stack.last {
            if top.node.isLeaf {
                stack.removeLast()
                try body(top.node)
            } else if top.next < top.node.children.count {
                stack[stack.count - 1].next += 1
                stack.append((top.node.children[top.next], 0))
            } else {
                stack.removeLast()
            }
        }
    }
}
