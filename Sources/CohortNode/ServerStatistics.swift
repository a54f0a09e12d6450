import Synchronization

/// One statistic, shared by every event loop.
public final class StatisticCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    public init() {}

    /// Adds `amount` with relaxed ordering: these are statistics, not flags. Returns the new value.
    @discardableResult
    public func add(_ amount: Int = 1) -> Int {
        atomic.wrappingAdd(amount, ordering: .relaxed).newValue
    }

    public var value: Int { atomic.load(ordering: .relaxed) }
}

/// Counters that INFO and the metrics endpoint report. Reading them is a snapshot of each
/// counter, not of all of them at once.
public final class ServerStatistics: Sendable {
    public let connectionsReceived = StatisticCounter()
    public let connectionsRejected = StatisticCounter()
    public let connectedClients = StatisticCounter()
    /// Clients parked in a blocking command (BLPOP and the like).
    public let blockedClients = StatisticCounter()
    public let commandsProcessed = StatisticCounter()
    public let keyspaceHits = StatisticCounter()
    public let keyspaceMisses = StatisticCounter()
    public let protocolErrors = StatisticCounter()
    public let outputLimitDisconnects = StatisticCounter()
    public let bytesRead = StatisticCounter()
    public let bytesWritten = StatisticCounter()

    public init() {}

    /// Adds `amount` to the counter at `counter`.
    public func add(_ counter: KeyPath<ServerStatistics, StatisticCounter>, _ amount: Int = 1) {
        self[keyPath: counter].add(amount)
    }

    public func value(_ counter: KeyPath<ServerStatistics, StatisticCounter>) -> Int {
        self[keyPath: counter].value
    }
}
