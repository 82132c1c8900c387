import Foundation
import StrataCore

/// Prints the CPU model and the BLAS with its core (`MachineInfo.lines`), the first lines of
/// `strata run` and `strata bench`, on standard output (standard error keeps progress and errors alone).
/// Throws, and so stops the command, when no BLAS can be opened.
func printMachine(toStandardError: Bool) throws {
    let text = try MachineInfo.current().lines.joined(separator: "\n") + "\n"
    (toStandardError ? FileHandle.standardError : FileHandle.standardOutput).write(Data(text.utf8))
}
