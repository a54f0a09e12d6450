import CohortCore
import CohortStorage

/// Generic key commands: deletion, existence, expiry, iteration, counts.
extension CommandExecutor {
    static let keyCommands: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: ["write"], keys: (1, -1, 1)) { e, c in
            try e.delete(&c)
        },
        CommandSpec("unlink", arity: -2, flags: ["write", "fast"], keys: (1, -1, 1)) { e, c in
            try e.delete(&c)
        },
        CommandSpec("exists", arity: -2, flags: ["readonly", "fast"], keys: (1, -1, 1)) { e, c in
            var count: Int64 = 0
            // Redis counts a key named twice twice.
            for key in c.arguments.dropFirst()
            where try e.keyMetadata(c, key) != nil {
                count += 1
            }
            return e.read(.integer(count))
        },
        CommandSpec("type", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            let metadata = try e.keyMetadata(c, c.arguments[1])
            return e.read(
                .simpleString(metadata.map { CommandExecutor.typeName($0.type) } ?? "none"))
        },
        CommandSpec("expire", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.expire(&c, unitMillis: 1_000, absolute: false, name: "expire")
        },
        CommandSpec("pexpire", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.expire(&c, unitMillis: 1, absolute: false, name: "pexpire")
        },
        CommandSpec("expireat", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.expire(&c, unitMillis: 1_000, absolute: true, name: "expireat")
        },
        CommandSpec("pexpireat", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.expire(&c, unitMillis: 1, absolute: true, name: "pexpireat")
        },
        CommandSpec("ttl", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.timeToLive(&c, unitMillis: 1_000)
        },
        CommandSpec("pttl", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.timeToLive(&c, unitMillis: 1)
        },
        CommandSpec("persist", arity: 2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            let key = c.arguments[1]
            let (removed, commit) = try e.write(c) { txn in
                guard let metadata = txn.metadata(key), metadata.expiresAtMillis != 0 else {
                    return false
                }
                return try txn.setExpiry(key, expiresAtMillis: 0)
            }
            return e.wrote(.integer(removed ? 1 : 0), commit)
        },
        CommandSpec("rename", arity: 3, flags: ["write"], keys: (1, 2, 1)) { e, c in
            let (source, destination) = (c.arguments[1], c.arguments[2])
            let (_, commit) = try e.write(c) { txn in
                guard txn.contains(source) else { throw CommandError("ERR no such key") }
                if source == destination { return }
                _ = try txn.copyKey(source, to: destination)
                txn.delete(source)
            }
            return e.wrote(.simpleString("OK"), commit)
        },
        CommandSpec("renamenx", arity: 3, flags: ["write", "fast"], keys: (1, 2, 1)) { e, c in
            let (source, destination) = (c.arguments[1], c.arguments[2])
            let (renamed, commit) = try e.write(c) { txn -> Bool in
                guard txn.contains(source) else { throw CommandError("ERR no such key") }
                if txn.contains(destination) { return false }
                _ = try txn.copyKey(source, to: destination)
                txn.delete(source)
                return true
            }
            return e.wrote(.integer(renamed ? 1 : 0), commit)
        },
        CommandSpec("copy", arity: -3, flags: ["write", "denyoom"], keys: (1, 2, 1)) { e, c in
            var replace = false
            var index = 3
            while index < c.arguments.count {
                switch c.option(index) {
                case "REPLACE": replace = true
                case "DB":
                    guard index + 1 < c.arguments.count else { throw CommandError.syntax }
                    guard try c.integer(index + 1) == 0 else {
                        throw CommandError("ERR DB index is out of range")
                    }
                    index += 1
                default: throw CommandError.syntax
                }
                index += 1
            }
            let (source, destination) = (c.arguments[1], c.arguments[2])
            guard source != destination else {
                throw CommandError("ERR source and destination objects are the same")
            }
            let (copied, commit) = try e.write(c) { txn -> Bool in
                if !replace && txn.contains(destination) { return false }
                return try txn.copyKey(source, to: destination)
            }
            return e.wrote(.integer(copied ? 1 : 0), commit)
        },
        CommandSpec("scan", arity: -2, flags: ["readonly"]) { e, c in try e.scan(&c) },
        CommandSpec("keys", arity: 2, flags: ["readonly"]) { e, c in
            let pattern = GlobPattern(c.arguments[1])
            var keys: [RESPValue] = []
            var position: [UInt8]? = nil
            repeat {
                let page = e.engine.scan(
                    after: position, count: 1_024, nowMillis: c.nowMillis,
                    matching: pattern.matchesEverything ? nil : { pattern.matches($0) })
                keys.append(contentsOf: page.keys.map { RESPValue.bulkString($0) })
                position = page.next
            } while position != nil
            return e.read(.array(keys))
        },
        CommandSpec("dbsize", arity: 1, flags: ["readonly", "fast"]) { e, _ in
            e.read(.integer(Int64(e.engine.keyCount)))
        },
        CommandSpec("flushdb", arity: -1, flags: ["write"]) { e, c in try e.flush(&c) },
        CommandSpec("flushall", arity: -1, flags: ["write"]) { e, c in try e.flush(&c) },
    ]

    static func typeName(_ type: ValueType) -> String {
        switch type {
        case .string: return "string"
        case .hash: return "hash"
        case .set: return "set"
        case .list: return "list"
        case .zset: return "zset"
        // Elements live under internal keys, which no command names.
        case .element: return "none"
        }
    }

    func delete(_ c: inout CommandContext) throws -> CommandOutcome {
        let keys = c.arguments.dropFirst()
        let (count, commit) = try write(c) { txn in
            var count: Int64 = 0
            for key in keys where txn.delete(key) { count += 1 }
            return count
        }
        return wrote(.integer(count), commit)
    }

    func flush(_ c: inout CommandContext) throws -> CommandOutcome {
        if c.arguments.count > 2 { throw CommandError.syntax }
        if c.arguments.count == 2 {
            let mode = c.option(1)
            guard mode == "ASYNC" || mode == "SYNC" else { throw CommandError.syntax }
        }
        let commit = try flushAll(c)
        return wrote(.simpleString("OK"), commit)
    }

    /// EXPIRE family with Redis 7's NX / XX / GT / LT. A time already in the past deletes the
    /// key, as Redis does.
    func expire(
        _ c: inout CommandContext, unitMillis: Int64, absolute: Bool, name: String
    ) throws -> CommandOutcome {
        let amount = try c.integer(2)
        var condition: String? = nil
        for index in 3..<c.arguments.count {
            let option = c.option(index)
            guard ["NX", "XX", "GT", "LT"].contains(option) else {
                throw CommandError(
                    "ERR Unsupported option \(String(decoding: c.arguments[index], as: UTF8.self))")
            }
            if let condition, condition != option {
                throw CommandError(
                    "ERR NX and XX, GT or LT options at the same time are not compatible")
            }
            condition = option
        }
        let (millis, overflow) = amount.multipliedReportingOverflow(by: unitMillis)
        guard !overflow else { throw CommandError.invalidExpireTime(name) }
        let target: Int64
        if absolute {
            target = millis
        } else {
            let (sum, overflowAdd) = millis.addingReportingOverflow(Int64(c.nowMillis))
            guard !overflowAdd else { throw CommandError.invalidExpireTime(name) }
            target = sum
        }
        let key = c.arguments[1]
        let now = c.nowMillis
        let (changed, commit) = try write(c) { txn in
            guard let metadata = txn.metadata(key) else { return false }
            let current = metadata.expiresAtMillis
            switch condition {
            case "NX": if current != 0 { return false }
            case "XX": if current == 0 { return false }
            // A key without a time to live counts as living forever.
            case "GT": if current == 0 || target <= Int64(current) { return false }
            case "LT": if current != 0 && target >= Int64(current) { return false }
            default: break
            }
            if target <= Int64(now) {
                return txn.delete(key)
            }
            return try txn.setExpiry(key, expiresAtMillis: UInt64(target))
        }
        return wrote(.integer(changed ? 1 : 0), commit)
    }

    func timeToLive(_ c: inout CommandContext, unitMillis: UInt64) throws -> CommandOutcome {
        guard let metadata = try keyMetadata(c, c.arguments[1]) else {
            return read(.integer(-2))
        }
        let expiresAt = metadata.expiresAtMillis
        if expiresAt == 0 { return read(.integer(-1)) }
        let remaining = expiresAt > c.nowMillis ? expiresAt - c.nowMillis : 0
        let rounded = unitMillis == 1 ? remaining : (remaining + 500) / 1_000
        return read(.integer(Int64(rounded)))
    }

    /// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]. Cursor 0 starts; the cursor returned
    /// names a position in key order kept by this node (see ``ScanCursor``).
    func scan(_ c: inout CommandContext) throws -> CommandOutcome {
        var typeFilter: String? = nil
        let scan = try ScanArguments(c, cursorAt: 1) { option, index in
            guard option == "TYPE", index + 1 < c.arguments.count else {
                throw CommandError.syntax
            }
            typeFilter = String(decoding: c.arguments[index + 1], as: UTF8.self).lowercased()
            return 2
        }
        let cursor = scan.cursor
        var position: [UInt8]? = nil
        if cursor != 0 {
            guard let known = cursors.position(of: cursor) else {
                let issuer = ScanCursor(rawValue: cursor).tag
                if issuer != 0 && issuer != cursors.tag {
                    // A cursor of another node that reached this one (its issuer was not a
                    // member to send it to, or did not answer): say so, never restart.
                    throw CommandError(
                        "ERR invalid cursor: another node issued it; resume on that node or start again from 0"
                    )
                }
                throw CommandError("ERR invalid cursor")
            }
            position = known
        }
        let page = engine.scan(
            after: position, count: scan.count, nowMillis: c.nowMillis, matching: scan.matcher)
        var keys = page.keys
        if let typeFilter {
            keys = try keys.filter { key in
                guard let metadata = try engine.metadata(key, nowMillis: c.nowMillis) else {
                    return false
                }
                return CommandExecutor.typeName(metadata.type) == typeFilter
            }
        }
        let next = page.next.map { cursors.open(after: $0) } ?? 0
        return read(
            .array([.bulkString(Array(String(next).utf8)), .array(keys.map { .bulkString($0) })]))
    }
}
