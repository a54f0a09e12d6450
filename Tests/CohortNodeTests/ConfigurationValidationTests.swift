import CohortNode
import Testing

/// Combinations of options that parse but must not start a node.
@Suite struct ConfigurationValidationTests {
    static func clustered(name: String, peers: [String]) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.nodeName = name
        configuration.peers = peers.enumerated().map {
            ClusterPeer(name: $1, host: "127.0.0.1", port: 17_379 + $0)
        }
        return configuration
    }

    @Test func peersThatOmitThisNodeAreRefusedWithTheNamesInTheMessage() throws {
        let configuration = Self.clustered(name: "n3", peers: ["n1", "n2"])
        let error = try #require(configuration.validationError)
        #expect(
            error.description
                == "--peers lists n1,n2 but not this node (--id n3); list every voter including this node, or start with --join"
        )
        #expect(throws: error) { try configuration.validate() }
    }

    @Test func peersThatIncludeThisNodeOrAJoinerAreAccepted() throws {
        #expect(Self.clustered(name: "n2", peers: ["n1", "n2", "n3"]).validationError == nil)
        var joiner = Self.clustered(name: "n4", peers: ["n1", "n2", "n3"])
        joiner.joins = true
        #expect(joiner.validationError == nil)
        // Standalone, nothing about the cluster applies.
        var standalone = ServerConfiguration()
        standalone.peerBindAddress = "0.0.0.0"
        #expect(standalone.validationError == nil)
    }

    @Test func theDefaultSecretOnAnExposedPeerPortIsRefused() throws {
        var configuration = Self.clustered(name: "n1", peers: ["n1", "n2", "n3"])
        configuration.peerBindAddress = "0.0.0.0"
        let error = try #require(configuration.validationError)
        #expect(error.description.contains("0.0.0.0"), "\(error)")
        #expect(error.description.contains("--cluster-secret"), "\(error)")
        // A joiner opens a peer port too.
        var joiner = Self.clustered(name: "n4", peers: ["n1"])
        joiner.joins = true
        joiner.peerBindAddress = "10.0.0.4"
        #expect(joiner.validationError != nil)
        // Another secret, or loopback, is fine.
        configuration.clusterSecret = "s3cret-shared-by-the-cluster"
        #expect(configuration.validationError == nil)
        configuration.clusterSecret = ServerConfiguration.defaultClusterSecret
        configuration.peerBindAddress = "127.0.0.1"
        #expect(configuration.validationError == nil)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.1.2.3", true), ("localhost", true), ("LOCALHOST", true),
        ("::1", true), ("[::1]", true), ("0:0:0:0:0:0:0:1", true), ("::ffff:127.0.0.1", true),
        ("0.0.0.0", false), ("::", false), ("10.0.0.1", false), ("128.0.0.1", false),
        ("127.0.0", false), ("127.0.0.256", false), ("127.0.0.1.5", false), ("::2", false),
        ("::ffff:10.0.0.1", false), ("example.com", false), ("", false), ("1::1::1", false),
        ("127.example.com", false),
    ])
    func loopbackAddresses(host: String, expected: Bool) {
        #expect(ServerConfiguration.isLoopback(host) == expected, "\(host)")
    }
}
