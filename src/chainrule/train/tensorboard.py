"""TensorBoard callback for `fit`, with Keras's arguments and layout: the runs
`<log_dir>/train` and `<log_dir>/validation` hold `epoch_<metric>` curves (val_ metrics
go to validation under their plain name, so both curves share one chart), `batch_loss`
with update_freq='batch' or every N batches, weight histograms every `histogram_freq`
epochs and, with write_graph, the model graph of the first batch."""
import math
import numbers
import os
import struct
import warnings

from ..runtime.atomic_files import atomic_write
from .callbacks import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=False,
                 update_freq="epoch"):
        super().__init__()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be a non-negative integer, "
                             f"got {histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(
                update_freq, numbers.Integral) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer (every N batches), got {update_freq!r}")
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.write_graph, self.update_freq = bool(write_graph), update_freq
        self.step = 0  # batches seen, the x axis of the batch curves
        self._train = self._val = self._graph_hook = None
        self._resumed_at = 0

    def _writer(self, run):
        from ..utils.tensorboard import SummaryWriter
        folder = os.path.join(self.log_dir, run)
        if self._resumed_at:  # opened once the checkpoint's state (self.step) is loaded
            drop_uncommitted_events(folder, self._resumed_at, self.step)
        return SummaryWriter(folder)

    def _train_writer(self):
        if self._train is None:
            self._train = self._writer("train")
        return self._train

    def on_train_begin(self, logs=None):
        self._resumed_at = self.trainer.initial_epoch if self.trainer is not None else 0
        if self.write_graph and not self._resumed_at:  # a resumed run has its graph
            self._graph_hook = self.model.register_forward_pre_hook(self._capture_graph)

    def on_epoch_begin(self, epoch, logs=None):
        self._train_writer()  # before this epoch's first batch moves self.step on

    def _capture_graph(self, module, args):
        self._graph_hook.remove()  # once: the first batch is enough
        self._graph_hook = None
        batch = tuple(a.detach() for a in args)
        self._pending_graph = batch

    def on_batch_end(self, batch, logs=None):
        self.step += 1
        pending = getattr(self, "_pending_graph", None)
        if pending is not None:
            self._pending_graph = None
            self._train_writer().add_graph(self.model, pending)
        if self.update_freq != "epoch" and self.step % self.update_freq == 0:
            loss = (logs or {}).get("loss")
            if isinstance(loss, numbers.Real):
                self._train_writer().add_scalar("batch_loss", loss, self.step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                continue
            if key.startswith("val_"):
                if self._val is None:
                    self._val = self._writer("validation")
                self._val.add_scalar(f"epoch_{key[4:]}", value, epoch)
            else:
                self._train_writer().add_scalar(f"epoch_{key}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._histograms(epoch)
        for w in (self._train, self._val):
            if w is not None:
                w.flush()

    def _histograms(self, epoch):
        for name, p in self.model.named_parameters():
            values = p.detach().numpy()
            if values.size == 0:
                continue
            if not all(math.isfinite(v) for v in (values.min(), values.max())):
                warnings.warn(f"TensorBoard: parameter {name!r} has NaN/inf values at epoch "
                              f"{epoch + 1}; its histogram is skipped", stacklevel=2)
                continue
            self._train_writer().add_histogram(name, values, epoch)

    def on_train_end(self, logs=None):
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None
        for w in (self._train, self._val):
            if w is not None:
                w.close()
        self._train = self._val = None

    def state_dict(self):
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = int(state["step"])


def _is_batch_event(event):
    return any(v.tag == "batch_loss" for v in event.summary.value)


def drop_uncommitted_events(folder, epoch, batch_step):
    """Remove from the event files in `folder` the values a run wrote after its last
    checkpoint (epoch values from `epoch` on, batch values after `batch_step`): the
    resumed run writes them again, and TensorBoard would show both."""
    if not os.path.isdir(folder):
        return
    from tensorboardX.proto import event_pb2
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not name.startswith("events.") or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        kept, pos = [], 0
        while pos + 12 <= len(data):  # a record: length, its crc, payload, payload crc
            n = struct.unpack("<Q", data[pos:pos + 8])[0]
            end = pos + 12 + n + 4
            if end > len(data):
                break  # a record cut short by a crash
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + n])
            late = (event.step > batch_step if _is_batch_event(event)
                    else event.step >= epoch)
            if not (event.HasField("summary") and late):
                kept.append(data[pos:end])
            pos = end
        if pos != len(data) or sum(map(len, kept)) != len(data):
            atomic_write(path, lambda f: f.write(b"".join(kept)))
