import ArgumentParser

/// The `cohort` binary: server, local-cluster launcher, simulator and client tools in one.
@main
struct Cohort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort: a distributed key-value database that speaks the Redis protocol.",
        version: "0.1.0",
        subcommands: [ServerCommand.self, UpCommand.self, StatusCommand.self, SimCommand.self]
    )
}
