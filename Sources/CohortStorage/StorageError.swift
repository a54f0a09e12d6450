import Glibc

/// Operating errors of the storage engine. Programmer errors trap instead.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A key longer than `StorageOptions.keyBytesMax`.
    case keyTooLarge(bytes: Int, max: Int)
    /// A value longer than `StorageOptions.valueBytesMax`.
    case valueTooLarge(bytes: Int, max: Int)
    /// The device is full (ENOSPC, EDQUOT); the failed append was rolled back.
    case diskFull
    /// A system call failed with `errno`.
    case io(errno: Int32, operation: String)
    /// A record or file failed its checksum or structure checks; it is never served as data.
    case corrupt(file: String, offset: Int, reason: String)
    /// The engine was closed.
    case closed
    /// The engine refuses writes: an fsync failed, so what the kernel holds for the file is
    /// unknown (after a failed fsync Linux may drop the dirty pages and report success on a
    /// retry, "fsyncgate"). Only a restart, which recovers from what is really on disk, is safe.
    case failed(String)

    public var description: String {
        switch self {
        case .keyTooLarge(let bytes, let max): "key of \(bytes) bytes exceeds \(max)"
        case .valueTooLarge(let bytes, let max): "value of \(bytes) bytes exceeds \(max)"
        case .diskFull: "disk full"
        case .io(let errno, let operation): "\(operation) failed with errno \(errno)"
        case .corrupt(let file, let offset, let reason): "corrupt \(file) at \(offset): \(reason)"
        case .closed: "storage engine closed"
        case .failed(let reason): "storage engine failed: \(reason)"
        }
    }
}

extension StorageError {
    /// The error of a failed write: `.diskFull` when the device has no space left (ENOSPC,
    /// EDQUOT), which the engine handles apart from other failures.
    static func writeFailure(errno code: Int32, operation: String) -> StorageError {
        code == ENOSPC || code == EDQUOT ? .diskFull : .io(errno: code, operation: operation)
    }
}
