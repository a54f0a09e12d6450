import CohortCore

/// The simulated network: decides, for each message sent, whether and when it arrives.
/// It holds no messages itself; the simulation schedules a delivery event per arrival and asks
/// `allows(from:to:)` again on arrival, so partitions also cut messages already in flight.
public struct SimNetwork: Sendable {
    /// A directed link between two endpoints.
    private struct Link: Hashable, Sendable {
        var sender: NodeID
        var receiver: NodeID
    }

    /// Delay, loss and duplication when the link is not cut.
    public var conditions: NetworkConditions
    /// The links currently cut.
    public var partition: NetworkPartition = .none
    /// Messages handed to the network.
    public private(set) var sentCount = 0
    /// Messages lost to `dropProbability` or to a partition.
    public private(set) var droppedCount = 0
    /// Extra deliveries caused by `duplicateProbability`.
    public private(set) var duplicatedCount = 0
    /// Latest scheduled arrival per link, to keep links FIFO when reordering is off. Only
    /// looked up, never iterated, so its order cannot reach an output.
    private var lastArrivalMicros: [Link: UInt64] = [:]

    /// A network with the given conditions and no partition.
    public init(conditions: NetworkConditions) {
        self.conditions = conditions
    }

    /// True when a message from `sender` to `receiver` gets through the current partition.
    public func allows(from sender: NodeID, to receiver: NodeID) -> Bool {
        partition.allows(from: sender, to: receiver)
    }

    /// The arrival times of a message sent now: empty when it is lost, two when duplicated.
    public mutating func arrivalTimes(
        from sender: NodeID, to receiver: NodeID, nowMicros: UInt64, random: inout SimRandom
    ) -> [UInt64] {
        sentCount += 1
        if random.chance(conditions.dropProbability) {
            droppedCount += 1
            return []
        }
        var arrivals = [arrival(sender: sender, receiver: receiver, nowMicros, &random)]
        if random.chance(conditions.duplicateProbability) {
            duplicatedCount += 1
            // A duplicate is a separate copy (a retransmission): it does not queue behind the
            // link's other messages, and it may turn up much later, stale.
            var delay = random.integer(in: conditions.delayMicrosMin...conditions.delayMicrosMax)
            if random.chance(0.5) {
                delay += random.integer(in: UInt64(0)...conditions.longDelayMicrosMax)
            }
            arrivals.append(nowMicros + delay)
        }
        return arrivals
    }

    /// Counts a message lost on arrival because a partition cut its link.
    public mutating func recordPartitionDrop() {
        droppedCount += 1
    }

    private mutating func arrival(
        sender: NodeID, receiver: NodeID, _ nowMicros: UInt64, _ random: inout SimRandom
    ) -> UInt64 {
        var delay = random.integer(in: conditions.delayMicrosMin...conditions.delayMicrosMax)
        if random.chance(conditions.longDelayProbability) {
            delay += random.integer(in: UInt64(0)...conditions.longDelayMicrosMax)
        }
        var time = nowMicros + delay
        let link = Link(sender: sender, receiver: receiver)
        if !conditions.reorders {
            time = max(time, lastArrivalMicros[link] ?? 0)
        }
        lastArrivalMicros[link] = max(time, lastArrivalMicros[link] ?? 0)
        return time
    }
}
