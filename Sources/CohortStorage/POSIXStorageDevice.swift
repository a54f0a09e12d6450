import Foundation
import Glibc

/// The machine's file system, through the system calls the engine has always made (`open`,
/// `pread`, `pwrite`, `fdatasync`, `ftruncate`, `rename`, `unlink`, a directory's `fsync`).
/// Stateless: every instance is the same device.
public final class POSIXStorageDevice: StorageDevice {
    /// The instance options use by default.
    public static let shared = POSIXStorageDevice()

    /// A device over the machine's file system.
    public init() {}

    public func open(
        _ path: String, mode: StorageFileMode
    ) throws(StorageError) -> any StorageFileHandle {
        try POSIXStorageFile.open(path, mode: mode)
    }

    public func createDirectory(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(errno: errno, operation: "create directory \(path)")
        }
    }

    public func contentsOfDirectory(_ path: String) throws(StorageError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw .io(errno: errno, operation: "list \(path)")
        }
    }

    public func rename(_ source: String, to destination: String) throws(StorageError) {
        guard Glibc.rename(source, destination) == 0 else {
            throw .io(errno: errno, operation: "rename \(source)")
        }
    }

    public func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 else { throw .io(errno: errno, operation: "unlink \(path)") }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(path)") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io(errno: errno, operation: "fsync \(path)") }
    }
}
