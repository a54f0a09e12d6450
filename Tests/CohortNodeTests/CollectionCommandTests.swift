import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }
private let wrongType = RESPValue.error(
    "WRONGTYPE Operation against a key holding the wrong kind of value")

/// Hash and set commands: Redis's replies and errors, and random command sequences against a
/// simple in-memory model, across restarts.
@Suite struct CollectionCommandTests {
    @Test func hashCommandsAnswerAsRedisDoes() throws {
        let h = try ExecutorHarness()
        #expect(h.run("HSET", "h", "a", "1", "b", "2") == .integer(2))
        #expect(h.run("HSET", "h", "a", "10", "c", "3") == .integer(1))
        #expect(
            h.run("HSET", "h", "a") == .error("ERR wrong number of arguments for 'hset' command"))
        #expect(h.run("HGET", "h", "a") == bulk("10"))
        #expect(h.run("HGET", "h", "zz") == .null)
        #expect(h.run("HGET", "nokey", "a") == .null)
        #expect(h.run("HMGET", "h", "a", "zz", "c") == .array([bulk("10"), .null, bulk("3")]))
        #expect(
            h.run("HGETALL", "h")
                == .map([(bulk("a"), bulk("10")), (bulk("b"), bulk("2")), (bulk("c"), bulk("3"))]))
        #expect(h.run("HKEYS", "h") == .array([bulk("a"), bulk("b"), bulk("c")]))
        #expect(h.run("HVALS", "h") == .array([bulk("10"), bulk("2"), bulk("3")]))
        #expect(h.run("HLEN", "h") == .integer(3))
        #expect(h.run("HSTRLEN", "h", "a") == .integer(2))
        #expect(h.run("HEXISTS", "h", "b") == .integer(1))
        #expect(h.run("HSETNX", "h", "b", "x") == .integer(0))
        #expect(h.run("HSETNX", "h", "d", "4") == .integer(1))
        #expect(h.run("HINCRBY", "h", "a", "-15") == .integer(-5))
        #expect(h.run("HINCRBY", "h", "new", "7") == .integer(7))
        #expect(
            h.run("HINCRBY", "h", "a", "x") == .error("ERR value is not an integer or out of range")
        )
        #expect(h.run("HSET", "h", "text", "abc") == .integer(1))
        #expect(h.run("HINCRBY", "h", "text", "1") == .error("ERR hash value is not an integer"))
        #expect(h.run("HSET", "h", "max", "9223372036854775807") == .integer(1))
        #expect(
            h.run("HINCRBY", "h", "max", "1")
                == .error("ERR increment or decrement would overflow"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "10.5") == bulk("10.5"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "0.1") == bulk("10.6"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "-5.6") == bulk("5"))
        #expect(h.run("HINCRBYFLOAT", "h", "g", "1e20") == bulk("100000000000000000000"))
        #expect(h.run("HINCRBYFLOAT", "h", "text", "1") == .error("ERR hash value is not a float"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "abc") == .error("ERR value is not a valid float"))
        #expect(
            h.run("HINCRBYFLOAT", "h", "f", "inf")
                == .error("ERR increment would produce NaN or Infinity"))
        #expect(h.run("HDEL", "h", "a", "zz", "b") == .integer(2))
        #expect(h.run("TYPE", "h") == .simpleString("hash"))
        #expect(h.run("HMSET", "h2", "x", "1") == .simpleString("OK"))
        // Deleting the last field deletes the key.
        #expect(h.run("HDEL", "h2", "x") == .integer(1))
        #expect(h.run("EXISTS", "h2") == .integer(0))
        #expect(h.run("HGETALL", "h2") == .map([]))
    }

    @Test func setCommandsAnswerAsRedisDoes() throws {
        let h = try ExecutorHarness()
        #expect(h.run("SADD", "s", "x", "y", "z", "x") == .integer(3))
        #expect(h.run("SADD", "s", "x", "w") == .integer(1))
        #expect(h.run("SCARD", "s") == .integer(4))
        #expect(h.run("SISMEMBER", "s", "y") == .integer(1))
        #expect(h.run("SISMEMBER", "s", "q") == .integer(0))
        #expect(h.run("SMISMEMBER", "s", "y", "q") == .array([.integer(1), .integer(0)]))
        #expect(h.run("SMEMBERS", "s") == .set([bulk("w"), bulk("x"), bulk("y"), bulk("z")]))
        #expect(h.run("SREM", "s", "w", "q") == .integer(1))
        #expect(h.run("SADD", "t", "y", "q") == .integer(2))
        #expect(h.run("SINTER", "s", "t") == .set([bulk("y")]))
        #expect(h.run("SUNION", "s", "t") == .set([bulk("q"), bulk("x"), bulk("y"), bulk("z")]))
        #expect(h.run("SDIFF", "s", "t") == .set([bulk("x"), bulk("z")]))
        #expect(h.run("SDIFF", "nokey", "t") == .set([]))
        #expect(h.run("SINTERCARD", "2", "s", "t") == .integer(1))
        #expect(h.run("SINTERCARD", "1", "s", "LIMIT", "2") == .integer(2))
        #expect(h.run("SINTERCARD", "0", "s") == .error("ERR numkeys should be greater than 0"))
        #expect(h.run("SDIFFSTORE", "d", "s", "t") == .integer(2))
        #expect(h.run("SMEMBERS", "d") == .set([bulk("x"), bulk("z")]))
        #expect(h.run("SINTERSTORE", "d", "s", "nokey") == .integer(0))
        #expect(h.run("EXISTS", "d") == .integer(0))
        #expect(h.run("SMOVE", "s", "t", "x") == .integer(1))
        #expect(h.run("SMOVE", "s", "t", "x") == .integer(0))
        #expect(h.run("SMEMBERS", "t") == .set([bulk("q"), bulk("x"), bulk("y")]))
        #expect(h.run("TYPE", "t") == .simpleString("set"))
        // The last member removed removes the key.
        #expect(h.run("SREM", "t", "q", "x", "y") == .integer(3))
        #expect(h.run("TYPE", "t") == .simpleString("none"))
    }

    @Test func everyTypeRefusesTheOthersCommands() throws {
        let h = try ExecutorHarness()
        h.run("SET", "str", "v")
        h.run("HSET", "hash", "f", "v")
        h.run("SADD", "set", "m")
        #expect(h.run("HGET", "str", "f") == wrongType)
        #expect(h.run("HSET", "str", "f", "v") == wrongType)
        #expect(h.run("SADD", "hash", "m") == wrongType)
        #expect(h.run("SMEMBERS", "hash") == wrongType)
        #expect(h.run("SUNION", "set", "hash") == wrongType)
        #expect(h.run("GET", "hash") == wrongType)
        #expect(h.run("INCR", "set") == wrongType)
        #expect(h.run("APPEND", "hash", "x") == wrongType)
        #expect(h.run("MGET", "str", "hash") == .array([bulk("v"), .null]))
        #expect(h.run("SMOVE", "set", "hash", "m") == wrongType)
        // SET replaces a collection whatever it holds; its elements are gone for good.
        #expect(h.run("SET", "hash", "now a string") == .simpleString("OK"))
        #expect(h.run("GET", "hash") == bulk("now a string"))
        #expect(h.run("DEL", "hash") == .integer(1))
        #expect(h.run("HSET", "hash", "other", "1") == .integer(1))
        #expect(h.run("HGETALL", "hash") == .map([(bulk("other"), bulk("1"))]))
        #expect(h.run("DBSIZE") == .integer(3))
        #expect(h.run("KEYS", "*").arrayCount == 3)
    }

    /// Follows HSCAN / SSCAN cursors from 0 back to 0, returning the page contents in order.
    func scanAll(_ h: ExecutorHarness, _ command: [String], _ options: [String] = []) -> [String] {
        var cursor = "0"
        var seen: [String] = []
        repeat {
            guard case .array(let parts) = h.run([command[0], command[1], cursor] + options),
                parts.count == 2, let next = parts[0].text, case .array(let page) = parts[1]
            else {
                Issue.record("not a scan reply")
                return seen
            }
            seen += page.compactMap(\.text)
            cursor = next
        } while cursor != "0"
        return seen
    }

    @Test func collectionScansVisitEveryElementOnce() throws {
        let h = try ExecutorHarness()
        for index in 0..<25 { h.run("HSET", "h", "f\(index)", "v\(index)") }
        for index in 0..<25 { h.run("SADD", "s", "m\(index)") }
        let fields = scanAll(h, ["HSCAN", "h"], ["COUNT", "7"])
        #expect(fields.count == 50)
        #expect(Set(stride(from: 0, to: 50, by: 2).map { fields[$0] }).count == 25)
        #expect(fields.first == "f0" && fields.dropFirst().first == "v0")
        let names = scanAll(h, ["HSCAN", "h"], ["COUNT", "4", "NOVALUES"])
        #expect(Set(names) == Set((0..<25).map { "f\($0)" }) && names.count == 25)
        let matched = scanAll(h, ["HSCAN", "h"], ["MATCH", "f1*", "NOVALUES"])
        #expect(
            Set(matched) == [
                "f1", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19",
            ])
        let members = scanAll(h, ["SSCAN", "s"], ["COUNT", "10"])
        #expect(Set(members) == Set((0..<25).map { "m\($0)" }) && members.count == 25)
        #expect(scanAll(h, ["SSCAN", "nokey"]) == [])
        #expect(h.run("SSCAN", "h", "0") == wrongType)
        #expect(h.run("HSCAN", "h", "x") == .error("ERR invalid cursor"))
        // SCAN TYPE tells the types apart.
        h.run("SET", "str", "v")
        guard case .array(let parts) = h.run("SCAN", "0", "COUNT", "100", "TYPE", "hash"),
            case .array(let keys) = parts[1]
        else {
            Issue.record("not a scan reply")
            return
        }
        #expect(keys == [bulk("h")])
        guard case .array(let parts2) = h.run("SCAN", "0", "COUNT", "100", "TYPE", "string"),
            case .array(let strings) = parts2[1]
        else {
            Issue.record("not a scan reply")
            return
        }
        #expect(strings == [bulk("str")])
    }

    @Test func renameAndCopyMoveEveryType() throws {
        let h = try ExecutorHarness()
        h.run("SET", "s", "text", "EX", "100")
        h.run("HSET", "h", "f", "1", "g", "2")
        h.run("RPUSH", "l", "a", "b", "c")
        h.run("LPOP", "l")
        h.run("ZADD", "z", "1", "one", "2", "two")
        h.run("SADD", "set", "m")
        #expect(h.run("RENAME", "s", "s2") == .simpleString("OK"))
        #expect(h.run("GET", "s2") == bulk("text"))
        #expect(h.run("TTL", "s2") == .integer(100), "RENAME keeps the time to live")
        #expect(h.run("EXISTS", "s") == .integer(0))
        #expect(h.run("RENAME", "h", "h2") == .simpleString("OK"))
        #expect(h.run("HGETALL", "h2") == .map([(bulk("f"), bulk("1")), (bulk("g"), bulk("2"))]))
        #expect(h.run("HLEN", "h") == .integer(0))
        #expect(h.run("COPY", "l", "l2") == .integer(1))
        #expect(h.run("LRANGE", "l2", "0", "-1") == .array([bulk("b"), bulk("c")]))
        h.run("RPUSH", "l2", "d")
        #expect(
            h.run("LRANGE", "l", "0", "-1") == .array([bulk("b"), bulk("c")]), "copies are apart")
        #expect(h.run("COPY", "z", "l2") == .integer(0), "COPY does not replace without REPLACE")
        #expect(h.run("COPY", "z", "l2", "REPLACE") == .integer(1))
        #expect(h.run("TYPE", "l2") == .simpleString("zset"))
        #expect(h.run("ZSCORE", "l2", "two") == .double(2))
        #expect(h.run("ZRANGE", "l2", "0", "-1") == .array([bulk("one"), bulk("two")]))
        #expect(h.run("RENAMENX", "set", "h2") == .integer(0))
        #expect(h.run("RENAMENX", "set", "set2") == .integer(1))
        #expect(h.run("SMEMBERS", "set2") == .set([bulk("m")]))
        // Renamed over a collection: the old elements are gone for good.
        #expect(h.run("RENAME", "s2", "h2") == .simpleString("OK"))
        #expect(h.run("GET", "h2") == bulk("text"))
        h.run("DEL", "h2")
        h.run("HSET", "h2", "new", "1")
        #expect(h.run("HGETALL", "h2") == .map([(bulk("new"), bulk("1"))]))
        #expect(h.run("RENAME", "nokey", "x") == .error("ERR no such key"))
        #expect(h.run("COPY", "nokey", "x") == .integer(0))
        #expect(
            h.run("COPY", "l", "l") == .error("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "l", "x", "DB", "1") == .error("ERR DB index is out of range"))
        #expect(h.run("RENAME", "l", "l") == .simpleString("OK"))
        #expect(h.run("LLEN", "l") == .integer(2))
    }

    @Test func aCollectionsTimeToLiveCoversItsElements() throws {
        let h = try ExecutorHarness()
        h.run("HSET", "h", "f", "v")
        #expect(h.run("EXPIRE", "h", "10") == .integer(1))
        #expect(h.run("TTL", "h") == .integer(10))
        // A field write keeps the key's time to live, as in Redis.
        h.run("HSET", "h", "g", "w")
        #expect(h.run("TTL", "h") == .integer(10))
        h.nowMillis += 10_001
        #expect(h.run("HGET", "h", "f") == .null)
        #expect(h.run("EXISTS", "h") == .integer(0))
        #expect(h.run("HSET", "h", "g", "new") == .integer(1))
        #expect(h.run("HGETALL", "h") == .map([(bulk("g"), bulk("new"))]))
        #expect(h.run("TTL", "h") == .integer(-1))
    }

    /// Random hash, set, list, DEL and SET sequences over a few keys give
    /// the replies a plain dictionary model gives, and the state survives closing and
    /// reopening the engine between steps.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomSequencesMatchAModel(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
        let directory = NSTemporaryDirectory() + "cohort-collections-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var h = try ExecutorHarness(directory: directory)
        var model = CollectionModel()
        // Each type has keys of its own, and all share "x", where the types clash.
        let keys = ["h1", "h2", "s1", "s2", "l1", "l2", "x"]
        let hashes = ["h1", "h2", "h1", "h2", "x"]
        let sets = ["s1", "s2", "s1", "s2", "x"]
        let lists = ["l1", "l2", "l1", "l2", "x"]
        let elements = ["a", "b", "c", "d", "e", "f"]
        var succeeded = 0
        for step in 0..<600 {
            var command: [String]
            switch random.next() % 20 {
            case 0, 1:
                command = ["HSET", pick(hashes)]
                for _ in 0...(random.next() % 3) { command += [pick(elements), "v\(step)"] }
            case 2: command = ["HDEL", pick(hashes), pick(elements), pick(elements)]
            case 3:
                command = [
                    "HINCRBY", pick(hashes), pick(elements), "\(Int(random.next() % 9) - 4)",
                ]
            case 4, 5: command = ["SADD", pick(sets), pick(elements), pick(elements)]
            case 6: command = ["SREM", pick(sets), pick(elements)]
            case 7: command = ["SMOVE", pick(sets), pick(sets), pick(elements)]
            case 8: command = ["DEL", pick(keys)]
            case 9: command = ["SET", pick(["x", "x", pick(keys)]), "s\(step)"]
            case 10:
                command = [
                    pick(["HGETALL", "SMEMBERS", "HLEN", "SCARD", "TYPE", "LLEN"]), pick(keys),
                ]
            case 11: command = ["SUNIONSTORE", pick(sets), pick(sets), pick(sets)]
            case 12, 13:
                command = [pick(["LPUSH", "RPUSH"]), pick(lists), pick(elements), pick(elements)]
            case 14: command = [pick(["LPOP", "RPOP"]), pick(lists)]
            case 15: command = ["LRANGE", pick(lists), "0", "-1"]
            case 16: command = ["LREM", pick(lists), pick(["0", "1", "-1"]), pick(elements)]
            case 17:
                command = [
                    "LINSERT", pick(lists), pick(["BEFORE", "AFTER"]), pick(elements), "i\(step)",
                ]
            case 18: command = ["LTRIM", pick(lists), pick(["0", "1"]), pick(["-1", "-2", "2"])]
            default:
                command = [
                    "LMOVE", pick(lists), pick(lists), pick(["LEFT", "RIGHT"]),
                    pick(["LEFT", "RIGHT"]),
                ]
            }
            let expected = model.run(command)
            let actual = h.run(command)
            if !actual.isError { succeeded += 1 }
            #expect(actual == expected, "step \(step): \(command)")
            if actual != expected { return }
            if step % 97 == 96 {
                h = try h.reopened()
                for key in keys {
                    #expect(h.run(["TYPE", key]) == model.run(["TYPE", key]), "after reopen")
                }
            }
        }
        #expect(h.run(["DBSIZE"]) == .integer(Int64(model.values.count)))
        // Many commands met a key of their own type: the sequence exercised the types, not
        // just their WRONGTYPE errors.
        #expect(succeeded > 240, "\(succeeded) of 600 commands succeeded")
    }
}

/// The reference for `randomSequencesMatchAModel`: strings, hashes and sets as dictionaries.
struct CollectionModel {
    enum Value: Equatable {
        case string(String)
        case hash([String: String])
        case set(Set<String>)
        case list([String])
    }
    var values: [String: Value] = [:]

    mutating func run(_ command: [String]) -> RESPValue {
        let key = command[1]
        let wrong = RESPValue.error(
            "WRONGTYPE Operation against a key holding the wrong kind of value")
        func hash(_ key: String) -> [String: String]?? {
            switch values[key] {
            case nil: return .some(nil)
            case .hash(let fields): return .some(fields)
            default: return nil
            }
        }
        func set(_ key: String) -> Set<String>?? {
            switch values[key] {
            case nil: return .some(nil)
            case .set(let members): return .some(members)
            default: return nil
            }
        }
        func list(_ key: String) -> [String]?? {
            switch values[key] {
            case nil: return .some(nil)
            case .list(let items): return .some(items)
            default: return nil
            }
        }
        func store(_ key: String, _ value: Value) {
            switch value {
            case .hash(let fields) where fields.isEmpty: values[key] = nil
            case .set(let members) where members.isEmpty: values[key] = nil
            case .list(let items) where items.isEmpty: values[key] = nil
            default: values[key] = value
            }
        }
        func texts(_ items: [String]) -> RESPValue {
            .array(items.map { .bulkString(Array($0.utf8)) })
        }
        switch command[0] {
        case "HSET":
            guard case .some(let old) = hash(key) else { return wrong }
            var fields = old ?? [:]
            var added = 0
            for index in stride(from: 2, to: command.count, by: 2) {
                if fields.updateValue(command[index + 1], forKey: command[index]) == nil {
                    added += 1
                }
            }
            store(key, .hash(fields))
            return .integer(Int64(added))
        case "HDEL":
            guard case .some(let old) = hash(key) else { return wrong }
            var fields = old ?? [:]
            let removed = Set(command[2...]).filter { fields.removeValue(forKey: $0) != nil }
            store(key, .hash(fields))
            return .integer(Int64(removed.count))
        case "HINCRBY":
            guard case .some(let old) = hash(key) else { return wrong }
            var fields = old ?? [:]
            guard let current = Int64(fields[command[2]] ?? "0") else {
                return .error("ERR hash value is not an integer")
            }
            let sum = current + Int64(command[3])!
            fields[command[2]] = String(sum)
            store(key, .hash(fields))
            return .integer(sum)
        case "SADD":
            guard case .some(let old) = set(key) else { return wrong }
            var members = old ?? []
            let added = Set(command[2...]).filter { members.insert($0).inserted }
            store(key, .set(members))
            return .integer(Int64(added.count))
        case "SREM":
            guard case .some(let old) = set(key) else { return wrong }
            var members = old ?? []
            let removed = Set(command[2...]).filter { members.remove($0) != nil }
            store(key, .set(members))
            return .integer(Int64(removed.count))
        case "SMOVE":
            let (destination, member) = (command[2], command[3])
            guard case .some(let from) = set(key), case .some(let to) = set(destination) else {
                return wrong
            }
            guard var from, from.contains(member) else { return .integer(0) }
            if key != destination {
                from.remove(member)
                store(key, .set(from))
                store(destination, .set((to ?? []).union([member])))
            }
            return .integer(1)
        case "SUNIONSTORE":
            var union: Set<String> = []
            for source in command[2...] {
                guard case .some(let members) = set(source) else { return wrong }
                union.formUnion(members ?? [])
            }
            values[key] = nil
            store(key, .set(union))
            return .integer(Int64(union.count))
        case "LPUSH", "RPUSH":
            guard case .some(let old) = list(key) else { return wrong }
            var items = old ?? []
            for item in command[2...] {
                if command[0] == "LPUSH" { items.insert(item, at: 0) } else { items.append(item) }
            }
            store(key, .list(items))
            return .integer(Int64(items.count))
        case "LPOP", "RPOP":
            guard case .some(let old) = list(key) else { return wrong }
            guard var items = old, !items.isEmpty else { return .null }
            let item = command[0] == "LPOP" ? items.removeFirst() : items.removeLast()
            store(key, .list(items))
            return .bulkString(Array(item.utf8))
        case "LRANGE":
            guard case .some(let items) = list(key) else { return wrong }
            return texts(items ?? [])
        case "LLEN":
            guard case .some(let items) = list(key) else { return wrong }
            return .integer(Int64(items?.count ?? 0))
        case "LREM":
            guard case .some(let old) = list(key) else { return wrong }
            var items = old ?? []
            let count = Int(command[2])!
            var matches = items.indices.filter { items[$0] == command[3] }
            if count > 0 { matches = Array(matches.prefix(count)) }
            if count < 0 { matches = Array(matches.suffix(-count)) }
            for index in matches.reversed() { items.remove(at: index) }
            store(key, .list(items))
            return .integer(Int64(matches.count))
        case "LINSERT":
            guard case .some(let old) = list(key) else { return wrong }
            guard var items = old else { return .integer(0) }
            guard let found = items.firstIndex(of: command[3]) else { return .integer(-1) }
            items.insert(command[4], at: command[2] == "BEFORE" ? found : found + 1)
            store(key, .list(items))
            return .integer(Int64(items.count))
        case "LTRIM":
            guard case .some(let old) = list(key) else { return wrong }
            let items = old ?? []
            let count = items.count
            var start = Int(command[2])!
            var stop = Int(command[3])!
            if start < 0 { start = max(count + start, 0) }
            if stop < 0 { stop = count + stop }
            stop = min(stop, count - 1)
            store(key, .list(start <= stop && start < count ? Array(items[start...stop]) : []))
            return .simpleString("OK")
        case "LMOVE":
            let destination = command[2]
            // Redis looks at the destination only once the source has something to move.
            guard case .some(let source) = list(key) else { return wrong }
            guard var from = source, !from.isEmpty else { return .null }
            guard case .some(let to) = list(destination) else { return wrong }
            let item = command[3] == "LEFT" ? from.removeFirst() : from.removeLast()
            store(key, .list(from))
            var target = key == destination ? from : (to ?? [])
            if command[4] == "LEFT" { target.insert(item, at: 0) } else { target.append(item) }
            store(destination, .list(target))
            return .bulkString(Array(item.utf8))
        case "DEL":
            return .integer(values.removeValue(forKey: key) == nil ? 0 : 1)
        case "SET":
            values[key] = .string(command[2])
            return .simpleString("OK")
        case "HGETALL":
            guard case .some(let fields) = hash(key) else { return wrong }
            return .map(
                (fields ?? [:]).sorted { $0.key < $1.key }.map {
                    (.bulkString(Array($0.key.utf8)), .bulkString(Array($0.value.utf8)))
                })
        case "SMEMBERS":
            guard case .some(let members) = set(key) else { return wrong }
            return .set((members ?? []).sorted().map { .bulkString(Array($0.utf8)) })
        case "HLEN":
            guard case .some(let fields) = hash(key) else { return wrong }
            return .integer(Int64(fields?.count ?? 0))
        case "SCARD":
            guard case .some(let members) = set(key) else { return wrong }
            return .integer(Int64(members?.count ?? 0))
        case "TYPE":
            switch values[key] {
            case nil: return .simpleString("none")
            case .string: return .simpleString("string")
            case .hash: return .simpleString("hash")
            case .set: return .simpleString("set")
            case .list: return .simpleString("list")
            }
        default:
            preconditionFailure("the model does not know \(command[0])")
        }
    }
}

extension RESPValue {
    /// The number of elements of an array reply; -1 for any other reply.
    var arrayCount: Int {
        if case .array(let elements) = self { return elements.count }
        return -1
    }
}
