import Testing

@testable import CohortNode

@Suite struct CommandTableTests {
    /// Every command is found by its name in any case, and names of no command (including
    /// near misses and names longer than any command's) find nothing.
    @Test func everyCommandIsFoundAndNoOtherName() throws {
        let executor = try ExecutorHarness().executor
        #expect(executor.allSpecs.count > 30)
        let names = Set(executor.allSpecs.map(\.name))
        for spec in executor.allSpecs {
            #expect(executor.spec(named: Array(spec.name.utf8)) === spec, "\(spec.name)")
            #expect(executor.spec(named: Array(spec.name.uppercased().utf8)) === spec)
            // A near miss finds nothing, unless it is another command's name (LPUSH, LPUSHX).
            for near in [spec.name + "x", String(spec.name.dropLast())] {
                let found = executor.spec(named: Array(near.utf8))
                #expect(names.contains(near) ? found?.name == near : found == nil, "\(near)")
            }
        }
        for unknown in ["", "frobnicate", "gett", "x", String(repeating: "a", count: 40)] {
            #expect(executor.spec(named: Array(unknown.utf8)) == nil, "\(unknown)")
        }
    }

    /// The table is built from any set of names; a table of many more names than the server
    /// has still finds each one (probing past collisions).
    @Test func aCrowdedTableStillFindsEveryName() throws {
        let executor = try ExecutorHarness().executor
        let template = try #require(executor.allSpecs.first)
        var entries: [CommandName: CommandSpec] = [:]
        for index in 0..<2_000 {
            entries[try #require(CommandName(Array("c\(index)".utf8)))] = CommandSpec(
                "c\(index)", arity: template.arity, flags: [], run: template.run)
        }
        let table = CommandTable(entries)
        for (name, spec) in entries {
            #expect(table[name] === spec)
        }
        #expect(table[try #require(CommandName(Array("c2000".utf8)))] == nil)
    }
}
