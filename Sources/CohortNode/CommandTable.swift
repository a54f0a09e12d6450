/// The command specifications by name: an open-addressing table (linear probing), filled once
/// at start-up and only read afterwards.
///
/// Why not `Dictionary`: its lookup hashes the name with SipHash (`Hasher`), which showed in
/// profiles of pipelined GETs at about 4% of the server's CPU (a request is looked up twice:
/// to prefetch its keys and to run it). The names in the table are the server's own, so a
/// client cannot choose ones that collide; a multiplicative hash of the packed name is enough,
/// and the table is kept at most a quarter full so that probes stay short for any name asked.
struct CommandTable: Sendable {
    private var names: [CommandName?]
    private var specs: [CommandSpec?]
    /// 64 minus the number of bits of a bucket index.
    private let shift: UInt64

    /// A table of `entries`, whose names must differ.
    init(_ entries: [CommandName: CommandSpec]) {
        var bits: UInt64 = 4
        while 1 << bits < entries.count * 4 { bits += 1 }
        shift = 64 - bits
        names = Array(repeating: nil, count: 1 << bits)
        specs = Array(repeating: nil, count: 1 << bits)
        for (name, spec) in entries {
            var position = bucket(of: name)
            while names[position] != nil { position = (position + 1) & (names.count - 1) }
            names[position] = name
            specs[position] = spec
        }
    }

    /// The specification of the command called `name`, if there is one.
    @inline(__always)
    subscript(name: CommandName) -> CommandSpec? {
        var position = bucket(of: name)
        while let held = names[position] {
            if held == name { return specs[position] }
            position = (position + 1) & (names.count - 1)
        }
        return nil
    }

    @inline(__always)
    private func bucket(of name: CommandName) -> Int {
        // Fibonacci hashing: the top bits of the product of the mixed name and 2^64 / phi.
        Int(truncatingIfNeeded: (name.mixed &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}
