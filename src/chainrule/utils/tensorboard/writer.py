"""SummaryWriter with `torch.utils.tensorboard`'s API, writing TensorBoard event files
through tensorboardX (the optional extra `chainrule[tensorboard]`). Tensors are turned
into NumPy arrays / Python numbers here; the model graph is built from chainrule's own
autograd record (graph.py)."""
import datetime
import itertools
import numbers
import os
import socket
import time

import numpy as np

from ...tensors.tensor import Tensor
from . import graph

__all__ = ["SummaryWriter"]

_MISSING = ("chainrule.utils.tensorboard needs tensorboardX, the optional extra "
            "'tensorboard': pip install 'chainrule[tensorboard]' (or pip install tensorboardX)")


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return tensorboardX


def _scalar(value, what):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{what}: expected a single number, got a tensor of shape "
                             f"{tuple(value.shape)}")
        value = value.item()
    elif isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what}: expected a number or a one-element tensor, got "
                        f"{type(value).__name__}")
    return float(value)


def _array(values, what):
    if isinstance(values, Tensor):
        values = values.detach().numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: expected a tensor or an array of numbers, got "
                        f"{type(values).__name__}") from e
    if arr.size == 0:
        raise ValueError(f"{what}: the values are empty; a histogram needs at least one value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: the values contain NaN or inf, which a histogram cannot "
                         f"bin ({int(np.isnan(arr).sum())} NaN, {int(np.isinf(arr).sum())} inf)")
    return arr


_BINS = []


def _tensorflow_bins():
    """TensorFlow's default histogram edges: ±1e-12 growing by 10% up to ±1e20, and 0, so
    bins are narrow where values are small and one layout fits every scale."""
    if not _BINS:
        pos = []
        v = 1e-12
        while v < 1e20:
            pos.append(v)
            v *= 1.1
        _BINS.extend([-x for x in reversed(pos)] + [0.0] + pos)
    return _BINS


def _tag(tag, what):
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{what}: tag must be a non-empty string, got {tag!r}")
    return tag


def _step(step, what):
    if step is None:
        return None
    if isinstance(step, Tensor):
        step = step.item()
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(f"{what}: global_step must be an integer, got {step!r}")
    return int(step)


_FILE_IDS = itertools.count()


class _Run:
    """One run's event file. Events are framed and appended synchronously (tensorboardX's
    queue thread is not used), so `flush()` really has everything on disk."""

    def __init__(self, log_dir, filename_suffix, flush_secs):
        os.makedirs(log_dir, exist_ok=True)
        from tensorboardX.event_file_writer import EventsWriter
        # pid and a counter in the name, as PyTorch does: two files opened in the same
        # second (a writer reopened after close) must not overwrite each other
        unique = f".{os.getpid()}.{next(_FILE_IDS)}{filename_suffix}"
        self.events = EventsWriter(os.path.join(log_dir, "events"), unique)
        self.flush_secs, self.next_flush = flush_secs, time.time() + flush_secs

    def add(self, event, step=None, walltime=None):
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.events.write_event(event)
        if time.time() >= self.next_flush:
            self.flush()

    def add_summary(self, summary, step=None, walltime=None):
        from tensorboardX.proto import event_pb2
        self.add(event_pb2.Event(summary=summary), step, walltime)

    def flush(self):
        self.events.flush()
        self.next_flush = time.time() + self.flush_secs

    def close(self):
        self.events.close()


def default_log_dir(comment):
    stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write scalars, histograms, text, hyperparameters and the model graph to event files
    in `log_dir` (default `runs/<date>_<host><comment>`) for TensorBoard:
    `tensorboard --logdir runs`. Use as a context manager, or call `close()`. Writes go
    straight to the file (max_queue is accepted for PyTorch's signature); the file is
    flushed every `flush_secs` and by `flush()` / `close()`."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        self._tbx = _tensorboardx()
        self.log_dir = os.fspath(log_dir) if log_dir is not None else default_log_dir(comment)
        self._suffix, self._flush_secs = filename_suffix, flush_secs
        self._open = _Run(self.log_dir, filename_suffix, flush_secs)  # the file exists at once
        self._runs = {}  # add_scalars' runs, one per curve, laid out as PyTorch does
        if purge_step is not None:  # TensorBoard drops older events from this step on
            from tensorboardX.proto import event_pb2
            self._main.add(event_pb2.Event(session_log=event_pb2.SessionLog(
                status=event_pb2.SessionLog.START)), _step(purge_step, "SummaryWriter"))

    @property
    def _main(self):
        # (re)opened on use: as in PyTorch, a closed writer starts a new event file
        if self._open is None:
            self._open = _Run(self.log_dir, self._suffix, self._flush_secs)
        return self._open

    def _run(self, name):
        if name not in self._runs:
            self._runs[name] = _Run(os.path.join(self.log_dir, name), self._suffix,
                                    self._flush_secs)
        return self._runs[name]

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None):
        what = "SummaryWriter.add_scalar"
        value = _scalar(scalar_value, what)
        self._main.add_summary(self._tbx.summary.scalar(_tag(tag, what), value),
                               _step(global_step, what), walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart; each is written to the run `<log_dir>/<main_tag>_<tag>`."""
        what = "SummaryWriter.add_scalars"
        if not isinstance(tag_scalar_dict, dict) or not tag_scalar_dict:
            raise TypeError(f"{what}: tag_scalar_dict must be a non-empty dict of tag -> number")
        values = {_tag(k, what): _scalar(v, f"{what}[{k!r}]") for k, v in tag_scalar_dict.items()}
        _tag(main_tag, what)
        step = _step(global_step, what)
        for tag, value in values.items():
            run = self._run(main_tag.replace("/", "_") + "_" + tag)
            run.add_summary(self._tbx.summary.scalar(main_tag, value), step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        what = "SummaryWriter.add_histogram"
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _tensorflow_bins()
        summary = self._tbx.summary.histogram(_tag(tag, what), _array(values, what), bins,
                                              max_bins=max_bins)
        self._main.add_summary(summary, _step(global_step, what), walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        what = "SummaryWriter.add_text"
        if not isinstance(text_string, str):
            raise TypeError(f"{what}: text_string must be a string, got "
                            f"{type(text_string).__name__}")
        self._main.add_summary(self._tbx.summary.text(_tag(tag, what), text_string),
                               _step(global_step, what), walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        """One row of TensorBoard's HParams table, written (as in PyTorch) to a run of its
        own inside log_dir (`run_name`, default the current time)."""
        what = "SummaryWriter.add_hparams"
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError(f"{what}: hparam_dict and metric_dict must be dicts")
        if hparam_domain_discrete is not None:
            raise NotImplementedError(f"{what}: hparam_domain_discrete is not supported")
        hp = {}
        for k, v in hparam_dict.items():
            if isinstance(v, Tensor):
                v = v.item()
            if not isinstance(v, (bool, numbers.Real, str)):
                raise TypeError(f"{what}: hparam {k!r} must be a bool, number or string, got "
                                f"{type(v).__name__}")
            hp[k] = v
        metrics = {k: _scalar(v, f"{what} metric {k!r}") for k, v in metric_dict.items()}
        step = _step(global_step, what)
        run = _Run(os.path.join(self.log_dir, run_name or str(time.time())),
                   self._suffix, self._flush_secs)
        for summary in self._tbx.summary.hparams(hp, metrics):  # experiment, session start/end
            run.add_summary(summary)
        for k, v in metrics.items():
            run.add_summary(self._tbx.summary.scalar(k, v), step)
        run.close()

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The graph of `model(input_to_model)` (a tensor or a tuple of tensors), each op
        named inside the scope of the module that ran it."""
        from ...viz import model_trace
        if input_to_model is None:
            raise ValueError("SummaryWriter.add_graph: pass input_to_model, a batch the model "
                             "accepts (a tensor or a tuple of tensors)")
        inputs = model_trace.make_inputs("SummaryWriter.add_graph", input_data=input_to_model)
        from tensorboardX.proto import event_pb2
        gd = graph.graph_def(model, inputs)
        if verbose:
            print(gd)
        event = event_pb2.Event(graph_def=gd.SerializeToString())
        self._main.add(event)

    def flush(self):
        for run in [self._open, *self._runs.values()]:
            if run is not None:
                run.flush()

    def close(self):
        for run in [self._open, *self._runs.values()]:
            if run is not None:
                run.close()
        self._open, self._runs = None, {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        if name.startswith("add_"):
            raise NotImplementedError(f"SummaryWriter.{name} is not supported in chainrule; "
                                      "supported: add_scalar, add_scalars, add_histogram, "
                                      "add_text, add_hparams, add_graph")
        raise AttributeError(f"'SummaryWriter' object has no attribute {name!r}")
