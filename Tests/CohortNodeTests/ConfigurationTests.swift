import CohortNode
import CohortStorage
import Testing

@Suite struct ConfigurationTests {
    @Test func aClusteredEngineSyncsEverySecondWhateverFsyncSays() throws {
        var configuration = ServerConfiguration()
        configuration.fsync = .batch
        #expect(configuration.engineFsync == .batch)
        configuration.peers = [ClusterPeer(name: "n1", host: "127.0.0.1", port: 1)]
        #expect(configuration.engineFsync == .everysec)
        configuration.peers = []
        configuration.joins = true
        #expect(configuration.engineFsync == .everysec)
    }

    @Test func fileEnvironmentAndFlagsLayerInOrder() throws {
        var configuration = ServerConfiguration()
        let file = try ConfigurationFile(
            parsing: """
                # a comment
                port = 7001
                data_dir = "/var/lib/cohort"   # trailing comment
                fsync = everysec
                password = "has # hash"
                """)
        try configuration.apply(file: file)
        #expect(configuration.port == 7001)
        #expect(configuration.dataDirectory == "/var/lib/cohort")
        #expect(configuration.fsync == .everysec)
        #expect(configuration.password == "has # hash")
        try configuration.apply(environment: ["COHORT_PORT": "7002", "COHORT_DATA_DIR": "/tmp/d"])
        #expect(configuration.port == 7002)
        #expect(configuration.dataDirectory == "/tmp/d")
        try configuration.set("port", to: "7003")
        #expect(configuration.port == 7003)
        #expect(configuration.bindAddress == "127.0.0.1", "bind must default to loopback")
    }

    @Test func badValuesAreRejectedWithTheOptionNamed() {
        var configuration = ServerConfiguration()
        #expect(
            throws: ConfigurationError.invalidValue(
                option: "fsync", value: "always", expected: "batch, everysec or none")
        ) {
            try configuration.set("fsync", to: "always")
        }
        #expect(throws: ConfigurationError.unknownOption("colour")) {
            try configuration.set("colour", to: "blue")
        }
        #expect(throws: ConfigurationError.syntax(line: 2, message: "expected 'key = value'")) {
            _ = try ConfigurationFile(parsing: "port = 1\nnonsense\n")
        }
        #expect(throws: (any Error).self) { try configuration.set("port", to: "70000") }
    }
}

@Suite struct GlobPatternTests {
    @Test(arguments: [
        ("*", "anything", true), ("h?llo", "hello", true), ("h?llo", "hllo", false),
        ("h*llo", "heeeello", true), ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false),
        ("h[^e]llo", "hallo", true), ("h[^e]llo", "hello", false), ("h[a-b]llo", "hbllo", true),
        ("scan:*", "scan:12", true), ("scan:*", "scam:12", false), ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false), ("*:*:*", "a:b:c", true), ("", "", true), ("x", "", false),
    ])
    func matchesLikeRedis(pattern: String, subject: String, expected: Bool) {
        #expect(GlobPattern(Array(pattern.utf8)).matches(Array(subject.utf8)) == expected)
    }

    @Test func manyStarsTerminate() {
        let pattern = GlobPattern(
            Array(String(repeating: "*a", count: 30).utf8) + [UInt8(ascii: "b")])
        #expect(!pattern.matches([UInt8](repeating: UInt8(ascii: "a"), count: 40)))
    }
}

@Suite struct IntegerParsingTests {
    @Test func strictLikeRedis() {
        #expect(Int64(redisBytes: Array("123".utf8)) == 123)
        #expect(Int64(redisBytes: Array("-9223372036854775808".utf8)) == Int64.min)
        #expect(Int64(redisBytes: Array("9223372036854775807".utf8)) == Int64.max)
        for bad in ["", "-", "+1", " 1", "1 ", "01", "-0", "9223372036854775808", "1.5", "abc"] {
            #expect(Int64(redisBytes: Array(bad.utf8)) == nil, "\(bad) must not parse")
        }
    }
}
