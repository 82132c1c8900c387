import CStrataKernels

/// Stopping a run that has diverged, before it writes a checkpoint of NaN weights.
///
/// The trainer checks each batch's loss before the backward pass and the update, and every
/// parameter at the end of each epoch's training, before the test evaluation and the callbacks
/// (which write the checkpoint) see it. Either failure ends the run with an error naming the
/// epoch and the batch; the checkpoints of earlier epochs stay as they are.
enum NonFiniteStop {
    /// Throws when `loss`, the training loss of batch `batch` (from 0) of `epoch`, is NaN or infinite.
    static func checkLoss(_ loss: Double, epoch: Int, batch: Int, batches: Int, runDirectory: String?) throws {
        guard !loss.isFinite else { return }
        throw CoreError.runtime(.step(epoch: epoch, batch: batch + 1), "epoch \(epoch), batch \(batch + 1) of \(batches): the training loss is \(loss); "
            + "the run stops before this batch's update\(kept(runDirectory)) (a smaller optimizer.lr usually helps)")
    }

    /// Throws when a parameter of `model` holds a NaN or an infinity after training `epoch`
    /// (`batches` batches).
    static func checkParameters(_ model: Model, epoch: Int, batches: Int, runDirectory: String?) throws {
        for (name, parameter) in model.namedParameters {
            let index = Int(sk_first_non_finite(parameter.value.data, Int64(parameter.value.count)))
            guard index >= 0 else { continue }
            throw CoreError.runtime(.step(epoch: epoch, batch: batches), "epoch \(epoch), after batch \(batches) of \(batches): parameter '\(name)' holds "
                + "\(parameter.value.data[index]) at element \(index); the run stops before this epoch's evaluation"
                + "\(kept(runDirectory)) (a smaller optimizer.lr usually helps)")
        }
    }

    private static func kept(_ runDirectory: String?) -> String {
        guard let runDirectory else { return "" }
        return " and keeps the checkpoints of the epochs before it in \(runDirectory)/checkpoints"
    }
}
