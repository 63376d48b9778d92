import Foundation

/// A fresh directory under the system's temporary one, removed by `remove()`.
struct Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "/smtp-inspect-tests-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) {
        FileManager.default.createFile(atPath: file(name), contents: Data(bytes))
    }

    func contents(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: file(name)).map { Array($0) }
    }

    var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
