import Dispatch

/// Two independent pieces of work run at once: one on the calling thread, one on another.
///
/// Why: a restart rebuilds the whole index before the server answers anything, and on the
/// machines Cohort targets (two cores and up) the second core would otherwise sit idle through
/// the sort of every loaded version and the builds of the tree and the hash table. Used only
/// where the two pieces share nothing they write (disjoint halves of one buffer, or separate
/// structures built from the same immutable arrays).
enum ParallelWork {
    /// Runs `first` and `second` concurrently and returns both results once both are done;
    /// one after the other on the calling thread when not `inParallel` (an engine under
    /// `StorageBackgroundWork.inline`, which starts no thread).
    static func both<A, B>(
        inParallel: Bool = true, _ first: () -> A, _ second: () -> B
    ) -> (A, B) {
        guard inParallel else { return (first(), second()) }
        let results = Results<A, B>()
        withoutActuallyEscaping(first) { first in
            withoutActuallyEscaping(second) { second in
                let work = Unchecked((first, second))
                DispatchQueue.concurrentPerform(iterations: 2) { index in
                    if index == 0 {
                        results.first = work.value.0()
                    } else {
                        results.second = work.value.1()
                    }
                }
            }
        }
        guard let first = results.first, let second = results.second else {
            preconditionFailure("concurrentPerform returned before both pieces of work ran")
        }
        return (first, second)
    }

    /// Where the two threads leave their results; each writes only its own field, and the
    /// caller reads them after `concurrentPerform` has joined both.
    private final class Results<A, B>: @unchecked Sendable {
        var first: A?
        var second: B?
    }

    /// A value handed to the other thread that the compiler cannot prove safe to share: the
    /// callers of `both` guarantee it (see the type's comment).
    struct Unchecked<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}
