import Foundation

/// The images `data.skip_bad` left out, as a run records them: `skipped-files.txt` in the run
/// directory (one path per line, training split first) and `summary.json`'s
/// `"data": {"skipped": n, "skipped_train": a, "skipped_test": b, "skipped_files": "skipped-files.txt"}`.
public enum SkippedFiles {
    /// The list's name in the run directory.
    public static let fileName = "skipped-files.txt"

    /// Writes the list (when files were skipped and there is a run directory) and returns the
    /// summary field; `nil` when the recipe does not skip.
    public static func record(skipBad: Bool, train: ImageDataset, test: ImageDataset, runDirectory: String?) throws -> (String, JSONValue)? {
        guard skipBad else { return nil }
        let all = train.skippedFiles + test.skippedFiles
        var fields: [(String, JSONValue)] = [
            ("skipped", .number(Double(all.count))),
            ("skipped_train", .number(Double(train.skippedFiles.count))),
            ("skipped_test", .number(Double(test.skippedFiles.count))),
        ]
        if let runDirectory, !all.isEmpty {
            let path = runDirectory + "/" + fileName
            guard FileManager.default.createFile(atPath: path, contents: Data(all.map { $0 + "\n" }.joined().utf8)) else {
                throw DataError.unwritable(path: path, reason: "cannot create the file")
            }
            fields.append(("skipped_files", .string(fileName)))
        }
        return ("data", .object(JSONObject(fields)))
    }
}
