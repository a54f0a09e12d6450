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
        #expect(ServerConfiguration().validationError == nil, "standalone")
    }
}
