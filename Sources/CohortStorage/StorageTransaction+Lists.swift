import CohortCore

/// Lists: a list's items are elements at consecutive positions `head ..< head + count` (see
/// `ListPosition`), so an index is a point lookup, a push or pop at either end writes one
/// element record and the header, and a range is a run of lookups.
extension StorageTransaction {
    /// The item at `index` (0 is the head; the caller resolves negative indexes) of `list`;
    /// nil when out of range.
    public func item(at index: Int, of list: CollectionHandle) throws -> [UInt8]? {
        guard index >= 0, index < list.count else { return nil }
        return try element(ListPosition.element(list.header.head + Int64(index)), of: list)
    }

    /// The items from `start` through `end` (0-based, within range, `start <= end`).
    public func items(of list: CollectionHandle, from start: Int, through end: Int) throws
        -> [[UInt8]]
    {
        guard start <= end else { return [] }
        // One walk of the index from the first position, not a lookup per item.
        var found: [[UInt8]] = []
        found.reserveCapacity(end - start + 1)
        let first = list.header.head + Int64(start)
        let cursor = first == .min ? nil : ListPosition.element(first - 1)
        try walkElements(of: list, after: cursor, namingElements: false) { _, value in
            found.append(value)
            return found.count <= end - start
        }
        guard found.count == end - start + 1 else {
            throw StorageError.corrupt(
                file: "list", offset: start + found.count,
                reason: "a list item inside its range is missing")
        }
        return found
    }

    /// Adds `value` at the front (LPUSH) or the back (RPUSH) of `list`.
    public mutating func pushItem(
        _ value: [UInt8], atFront: Bool, to list: inout CollectionHandle
    ) throws {
        if atFront && list.count > 0 { list.header.head -= 1 }
        let position = atFront ? list.header.head : list.header.head + Int64(list.count)
        try putElement(ListPosition.element(position), value: value, in: &list)
    }

    /// Removes and returns the item at the front (LPOP) or the back (RPOP); nil when empty.
    public mutating func popItem(
        fromFront: Bool, of list: inout CollectionHandle
    ) throws -> [UInt8]? {
        guard list.count > 0 else { return nil }
        let index = fromFront ? 0 : list.count - 1
        guard let value = try item(at: index, of: list) else { return nil }
        removeElement(ListPosition.element(list.header.head + Int64(index)), from: &list)
        if fromFront && list.count > 0 { list.header.head += 1 }
        return value
    }

    /// Replaces the item at `index` (within range).
    public mutating func setItem(
        at index: Int, to value: [UInt8], in list: inout CollectionHandle
    ) throws {
        precondition(index >= 0 && index < list.count, "list index \(index) out of range")
        try putElement(
            ListPosition.element(list.header.head + Int64(index)), value: value, in: &list)
    }

    /// Drops `front` items from the front and `back` from the back (LTRIM).
    public mutating func trimItems(front: Int, back: Int, of list: inout CollectionHandle) {
        precondition(front >= 0 && back >= 0 && front + back <= list.count, "bad trim")
        let head = list.header.head
        let count = list.count
        for index in 0..<front {
            removeElement(ListPosition.element(head + Int64(index)), from: &list)
        }
        for index in (count - back)..<count {
            removeElement(ListPosition.element(head + Int64(index)), from: &list)
        }
        if list.count > 0 { list.header.head = head + Int64(front) }
    }

    /// Replaces the whole list with `items`, at the same head (LINSERT, LREM).
    public mutating func replaceItems(_ items: [[UInt8]], of list: inout CollectionHandle) throws {
        let head = list.header.head
        for index in items.count..<max(items.count, list.count) {
            removeElement(ListPosition.element(head + Int64(index)), from: &list)
        }
        for (index, item) in items.enumerated() {
            try putElement(ListPosition.element(head + Int64(index)), value: item, in: &list)
        }
        list.header.head = head
    }
}
