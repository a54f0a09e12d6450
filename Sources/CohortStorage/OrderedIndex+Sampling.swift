extension OrderedIndex {
    /// A key of the range `lower..<upper` drawn uniformly at random, with its slot, in
    /// O(log n) per attempt; nil when the range is empty or `attemptsMax` attempts were all
    /// rejected. `draw(n)` must return a uniform integer in `0..<n`.
    ///
    /// Olken's acceptance/rejection sampling of a B+tree. The walk starts at the lowest node
    /// whose children the range spans (above it every key of the range takes the same path)
    /// and picks one of that node's in-range children evenly. Below it, each node draws a
    /// place among `nodeFanoutMax`, and the attempt is rejected when no in-range child (or
    /// key, in a leaf) is there. Every leaf lies at the same depth, so each key of the range
    /// comes out of an attempt with the same chance, 1 / (the top node's in-range children) /
    /// `nodeFanoutMax` to the power of the levels below it, however full the nodes are and
    /// however the range cuts them; attempts succeed about as often as those nodes are full.
    func randomSlot(
        from lower: [UInt8], below upper: [UInt8], attemptsMax: Int, draw: (Int) -> Int
    ) -> (key: [UInt8], slot: IndexSlot)? {
        var top = root
        // The top node's in-range children (or keys, in a leaf), found once.
        var topFirst = 0
        var topEnd = 0
        while true {
            if top.isLeaf {
                topFirst = Self.lowerBound(top, lower)
                topEnd = Self.lowerBound(top, upper)
                guard topEnd > topFirst else { return nil }
                break
            }
            topFirst = Self.upperBound(top, lower)
            topEnd = Self.lowerBound(top, upper) + 1
            guard topEnd - topFirst == 1 else { break }
            top = top.children[topFirst]
        }
        if top.isLeaf {
            let slot = top.slots[topFirst + draw(topEnd - topFirst)]
            return (slot.key, slot)
        }
        for _ in 0..<attemptsMax {
            var node = top
            var atTop = true
            // Set once the walk left the range's edges: every key below is in the range.
            var inside = false
            var rejected = false
            while !node.isLeaf {
                let first = atTop ? topFirst : inside ? 0 : Self.upperBound(node, lower)
                let last =
                    atTop
                    ? topEnd - 1 : inside ? node.children.count - 1 : Self.lowerBound(node, upper)
                let place = atTop ? draw(last - first + 1) : draw(Self.nodeFanoutMax)
                guard place <= last - first else {
                    rejected = true
                    break
                }
                if place > 0 && place < last - first { inside = true }
                node = node.children[first + place]
                atTop = false
            }
            if rejected { continue }
            let first = inside ? 0 : Self.lowerBound(node, lower)
            let end = inside ? node.keyCount : Self.lowerBound(node, upper)
            let place = draw(Self.nodeFanoutMax)
            guard place < end - first else { continue }
            let slot = node.slots[first + place]
            return (slot.key, slot)
        }
        return nil
    }
}
