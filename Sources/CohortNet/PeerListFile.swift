import CohortStorage
import Logging

/// The addresses of members added online, saved in `<data-dir>/peers` so that a restart can
/// dial them even after the log entries that carried them were compacted away.
///
/// One `name host port` line per member, in name order. The file is replaced atomically and
/// durably (``DurableFile``: temporary file, fdatasync, rename, directory fsync), so a crash
/// leaves the old list or the new one. A line that does not parse is reported, never skipped
/// in silence: it means the file was damaged or edited by hand.
enum PeerListFile {
    /// The file's name in the data directory.
    static let fileName = "peers"

    /// Why the list could not be read or written.
    enum Failure: Error, Equatable, CustomStringConvertible {
        /// Reading, writing or syncing failed.
        case storage(StorageError)
        /// Line `number` (from 1) is not `name host port` with a port in 1...65535, or names
        /// a member a second time.
        case damagedLine(number: Int, text: String)
        /// A name or host that the line format cannot hold (empty, or with a space or a line
        /// break); nothing was written.
        case unwritable(name: String, address: PeerAddress)

        var description: String {
            switch self {
            case .storage(let error): "\(error)"
            case .damagedLine(let number, let text):
                "line \(number) of the peer list is damaged: \"\(text.prefix(200))\""
            case .unwritable(let name, let address):
                "peer \"\(name)\" at \(address) cannot be written as a `name host port` line"
            }
        }
    }

    /// The peers in `directory`'s list (empty when there is no list). Throws on the first
    /// damaged line.
    static func load(directory: String) throws(Failure) -> [String: PeerAddress] {
        let contents = try loadReadable(directory: directory)
        if let first = contents.damaged.first { throw first }
        return contents.peers
    }

    /// The peers of every line that parses, and a ``Failure/damagedLine(number:text:)`` for
    /// each that does not: a node keeps dialling what it can read.
    static func loadReadable(
        directory: String
    ) throws(Failure) -> (peers: [String: PeerAddress], damaged: [Failure]) {
        let bytes: [UInt8]?
        do {
            bytes = try DurableFile.read(
                name: fileName, directory: directory, device: POSIXStorageDevice.shared)
        } catch {
            throw .storage(error)
        }
        guard let bytes else { return ([:], []) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var peers: [String: PeerAddress] = [:]
        var damaged: [Failure] = []
        for (offset, line) in lines.enumerated() {
            let text = String(decoding: line, as: UTF8.self)
            let fields = text.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty,
                let port = Int(fields[2]), (1...65_535).contains(port),
                peers[String(fields[0])] == nil, text.utf8.elementsEqual(line)
            else {
                damaged.append(.damagedLine(number: offset + 1, text: text))
                continue
            }
            peers[String(fields[0])] = PeerAddress(host: String(fields[1]), port: port)
        }
        return (peers, damaged)
    }

    /// ``loadReadable(directory:)``, logging each damaged line and any failure to read (then
    /// returning no peers): for a node's start, which goes on with the addresses it has.
    static func loadReporting(
        directory: String, logger: Logger = Logger(label: "cohort.replication")
    ) -> [String: PeerAddress] {
        do {
            let contents = try loadReadable(directory: directory)
            for failure in contents.damaged {
                logger.error(
                    "ignoring a damaged line of the peer list",
                    metadata: ["dir": "\(directory)", "error": "\(failure)"])
            }
            return contents.peers
        } catch {
            logger.error(
                "cannot read the peer list; members added online are not dialled",
                metadata: ["dir": "\(directory)", "error": "\(error)"])
            return [:]
        }
    }

    /// Replaces `directory`'s list with `peers`; when this returns, the new list is durable.
    static func save(_ peers: [String: PeerAddress], directory: String) throws(Failure) {
        func isWritable(_ field: String) -> Bool {
            !field.isEmpty && !field.utf8.contains { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }
        }
        var text = ""
        for name in peers.keys.sorted() {
            let address = peers[name]!
            guard isWritable(name), isWritable(address.host) else {
                throw .unwritable(name: name, address: address)
            }
            text += "\(name) \(address.host) \(address.port)\n"
        }
        do {
            try DurableFile.write(
                Array(text.utf8), name: fileName, directory: directory,
                device: POSIXStorageDevice.shared)
        } catch {
            throw .storage(error)
        }
    }
}
