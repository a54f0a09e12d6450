/// Runs one leaderless simulation from `seed` (see ``LeaderlessSimulation``).
public func runLeaderlessSimulation(
    seed: UInt64, options: LeaderlessSimulationOptions = LeaderlessSimulationOptions()
) -> LeaderlessSimulationResult {
    LeaderlessSimulation(seed: seed, options: options).run()
}
