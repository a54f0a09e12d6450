import Foundation
import Glibc

/// Background work (compaction, hint files, snapshot encoding and writing) runs at a lower CPU
/// priority than serving, so that on a busy machine it takes the CPU that clients leave idle
/// instead of stalling the threads that answer them. Measured on a 2-core machine under a
/// 64-client write load: a 64 MiB compaction at normal priority on all three nodes of a
/// cluster took the machine for seconds and cut write throughput to about 40% meanwhile.
///
/// On Linux the nice value is a property of each thread, so lowering it affects only the
/// calling thread. It cannot be raised again without privilege; only threads that do nothing
/// but background work call ``lowerCurrentThread()``.
public enum BackgroundPriority {
    /// The nice value background threads run at (0 is normal, 19 the lowest).
    public static let niceValue: Int32 = 10

    /// Lowers the calling thread's CPU priority to ``niceValue``. Failure is harmless (the
    /// work still runs, only at normal priority) and ignored.
    public static func lowerCurrentThread() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceValue)
    }

    /// The calling thread's nice value.
    public static func currentNiceValue() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    /// Names the calling thread as the kernel sees it (`top -H`, `perf`, /proc), so that an
    /// operator can tell background work from serving; Linux keeps the first 15 bytes.
    public static func nameCurrentThread(_ name: String) {
        // pthread_setname_np is not visible to Swift here; /proc/thread-self is the same.
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// Runs `body` on a new thread named `name` at background priority.
    public static func run(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameCurrentThread(name)
            lowerCurrentThread()
            body()
        }
        thread.name = name
        thread.start()
    }
}
