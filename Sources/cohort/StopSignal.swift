import Dispatch
import Glibc

/// SIGTERM and SIGINT turned into something to wait for: the server drains and the launcher
/// stops its nodes in order instead of dying mid-write.
final class StopSignal {
    private let semaphore = DispatchSemaphore(value: 0)
    private let sources: [any DispatchSourceSignal]

    init() {
        let semaphore = self.semaphore
        sources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            return source
        }
    }

    /// Blocks until a stop signal arrives.
    func wait() { semaphore.wait() }

    /// Waits up to `milliseconds`; true when a stop signal arrived.
    func wait(milliseconds: Int) -> Bool {
        semaphore.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
    }

    deinit { sources.forEach { $0.cancel() } }
}
