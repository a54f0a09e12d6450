import CohortCore
import Testing

@testable import CohortSim

@Suite struct KeyValueStateMachineTests {
    @Test func appliesSetAndCompareAndSetAtMostOncePerRequest() {
        var machine = KeyValueStateMachine()
        let set = KeyValueRequest(clientID: 1, sequence: 1, command: .set(key: 0, value: 5))
        #expect(machine.apply(set, at: LogIndex(1)) == .written)
        let cas = KeyValueRequest(
            clientID: 2, sequence: 1, command: .compareAndSet(key: 0, expected: 5, new: 6))
        #expect(machine.apply(cas, at: LogIndex(2)) == .compareAndSet(succeeded: true))
        // The network duplicated the first set: it must not undo the compare-and-set.
        #expect(machine.apply(set, at: LogIndex(3)) == .written)
        #expect(machine.values[0] == 6)
        let failing = KeyValueRequest(
            clientID: 2, sequence: 2, command: .compareAndSet(key: 0, expected: nil, new: 1))
        #expect(machine.apply(failing, at: LogIndex(4)) == .compareAndSet(succeeded: false))
        machine.skip(index: LogIndex(5))
        #expect(machine.appliedIndex == LogIndex(5))
    }

    @Test func requestsAndSnapshotsRoundTrip() {
        let commands: [KeyValueCommand] = [
            .set(key: 3, value: -7), .compareAndSet(key: 1, expected: nil, new: 2),
            .compareAndSet(key: 1, expected: 4, new: 2), .read(key: 9),
        ]
        var machine = KeyValueStateMachine()
        for (offset, command) in commands.enumerated() {
            let request = KeyValueRequest(
                clientID: 4, sequence: UInt64(offset + 1), command: command)
            #expect(KeyValueRequest(decoding: request.encoded()) == request)
            _ = machine.apply(request, at: LogIndex(UInt64(offset + 1)))
        }
        #expect(KeyValueRequest(decoding: []) == nil)
        let restored = KeyValueStateMachine(snapshot: machine.snapshotBytes())
        #expect(restored == machine)
        #expect(restored?.digest == machine.digest)
    }
}
