"""Progress display: a tqdm bar per epoch (tqdm.auto, so notebooks get widgets) when
stdout is a terminal or a notebook; one summary line per epoch otherwise; nothing with
progress=False. Works without tqdm (plain lines)."""
import sys

from ..runtime.notebook_display import in_notebook

__all__ = ["Progress", "format_logs"]


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and (abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3)):
        return f"{v:.3e}"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def format_logs(logs, skip=("lr", "seconds")):
    return "  ".join(f"{k} {_fmt(v)}" for k, v in logs.items() if k not in skip)


class Progress:
    def __init__(self, enabled, epochs, stream=None):
        self.enabled, self.epochs = bool(enabled), epochs
        self.stream = stream if stream is not None else sys.stdout
        interactive = in_notebook() or (hasattr(self.stream, "isatty") and self.stream.isatty())
        self.tqdm = None
        if self.enabled and interactive:
            try:
                from tqdm.auto import tqdm
                self.tqdm = tqdm
            except ImportError:
                self.tqdm = None
        self.bar = None

    def epoch_begin(self, epoch, steps):
        self.steps = steps
        if self.tqdm is not None:
            self.bar = self.tqdm(total=steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                                 leave=True, unit="batch", dynamic_ncols=True)

    def batch_end(self, running):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in running.items()}, refresh=False)

    def epoch_end(self, epoch, logs):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix({k: _fmt(v) for k, v in logs.items() if k != "seconds"})
            self.bar.close()
            self.bar = None
        else:
            secs = logs.get("seconds")
            tail = f"  ({duration(secs, getattr(self, 'steps', None))})" if secs is not None else ""
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs}  {format_logs(logs)}{tail}\n")
            self.stream.flush()

    def message(self, text):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def duration(secs, steps=None):
    """An epoch's time as people read it: milliseconds under a second, and the rate."""
    text = f"{secs * 1e3:.0f} ms" if secs < 1 else f"{secs:.1f} s"
    if steps and secs > 0:
        text += f", {steps / secs:,.0f} steps/s"
    return text
