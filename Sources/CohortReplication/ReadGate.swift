import CohortCore

/// A group's answer to a read's request to run.
public enum ReadGate: Sendable {
    /// Run the read now; this node has applied `appliedIndex`.
    case proceed(appliedIndex: UInt64)
    /// Do not run it; send this error.
    case refused(RESPValue)
}
