import CohortCore
import CohortNode
import CohortStorage
import NIOConcurrencyHelpers

/// The NIO host's ``NodeIdentity``: kept in `<data-dir>/identity`, shared by the peer
/// connections (which admit or refuse peers in their handshakes) and the default group (whose
/// member entries readmit a removed node).
///
/// Every change is written durably (``DurableFile``) before the caller acts on it, so a
/// connection accepted on a first-seen incarnation is never forgotten by a crash. A change that
/// cannot be saved refuses the peer: the node keeps running, and the handshake retries.
public final class NodeIdentityStore: Sendable {
    /// The file's name in the data directory.
    public static let fileName = "identity"

    private let directory: String
    private let state: NIOLockedValueBox<State>

    private struct State {
        var identity: NodeIdentity
        var refusals = 0
        var lastRefusal: String?
    }

    /// Why the identity could not be opened.
    public struct OpenError: Error, CustomStringConvertible {
        /// What went wrong, and what the operator can do.
        public let description: String
    }

    /// Reads the identity in `directory`, or makes one with a fresh random incarnation when
    /// the directory has none (a new node, or one whose data directory was wiped). Throws on a
    /// damaged file rather than replacing it.
    public static func open(directory: String) throws(OpenError) -> NodeIdentityStore {
        let device = POSIXStorageDevice.shared
        let path = "\(directory)/\(fileName)"
        do {
            if let bytes = try DurableFile.read(
                name: fileName, directory: directory, device: device)
            {
                do {
                    return NodeIdentityStore(
                        directory: directory, identity: try NodeIdentity.decode(bytes))
                } catch {
                    throw OpenError(
                        description:
                            "\(path): \(error). Peers that this node has met cannot be checked "
                            + "without it; restore it, or remove the file to trust every peer "
                            + "anew (as a new node would)")
                }
            }
            var generator = SystemRandomNumberGenerator()
            var incarnation: UInt64 = 0
            while incarnation == 0 { incarnation = generator.next() }
            let identity = NodeIdentity(incarnation: incarnation)
            try DurableFile.write(
                identity.encoded(), name: fileName, directory: directory, device: device)
            return NodeIdentityStore(directory: directory, identity: identity)
        } catch let error as OpenError {
            throw error
        } catch {
            throw OpenError(description: "\(path): \(error)")
        }
    }

    init(directory: String, identity: NodeIdentity) {
        self.directory = directory
        self.state = NIOLockedValueBox(State(identity: identity))
    }

    /// This data directory's incarnation.
    public var incarnation: UInt64 { state.withLockedValue { $0.identity.incarnation } }

    /// The identity as it stands.
    public var identity: NodeIdentity { state.withLockedValue { $0.identity } }

    /// Handshakes refused because a peer presented an incarnation this node does not remember,
    /// and the reason of the last one.
    public var refusals: (count: Int, last: String?) {
        state.withLockedValue { ($0.refusals, $0.lastRefusal) }
    }

    /// Admits `peer` presenting `presented`: nil to accept, or the reason to refuse it.
    func admit(_ peer: NodeID, presenting presented: UInt64) -> String? {
        state.withLockedValue { state -> String? in
            var identity = state.identity
            let reason: String?
            switch identity.admit(peer, presenting: presented) {
            case .known:
                return nil
            case .firstSeen:
                reason = save(identity).map { "cannot remember \(peer)'s incarnation: \($0)" }
                if reason == nil { state.identity = identity }
            case .replaced(let remembered):
                reason =
                    "\(peer) presents incarnation \(String(presented, radix: 16)) but this node "
                    + "remembers \(String(remembered, radix: 16)): its data directory was "
                    + "replaced, so it may have forgotten its votes and log. Remove it "
                    + "(COHORT NODE REMOVE) and add it again (COHORT NODE ADD)"
            }
            if let reason {
                state.refusals += 1
                state.lastRefusal = reason
            }
            return reason
        }
    }

    /// A member entry at `index` admitted `peer` (see ``NodeIdentity/memberAdmitted(_:at:)``).
    /// Throws when the change could not be saved; nothing changes then.
    public func memberAdmitted(_ peer: NodeID, at index: LogIndex) throws(StorageError) {
        let failure = state.withLockedValue { state -> StorageError? in
            var identity = state.identity
            guard identity.memberAdmitted(peer, at: index) else { return nil }
            if let error = save(identity) { return error }
            state.identity = identity
            return nil
        }
        if let failure { throw failure }
    }

    private func save(_ identity: NodeIdentity) -> StorageError? {
        do {
            try DurableFile.write(
                identity.encoded(), name: Self.fileName, directory: directory,
                device: POSIXStorageDevice.shared)
            return nil
        } catch {
            return error
        }
    }
}
