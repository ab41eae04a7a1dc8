"""chainrule.summary: a torchinfo-style table of a model (one row per module call with its
output shape and parameter count, totals, trainable vs frozen) and an estimate of the
memory one batch takes, for prediction and for training.

Training needs more memory than prediction: backward reads the activations the forward
kept (all layer outputs stay alive until backward has used them) and writes a gradient of
the same size for each activation and each trainable parameter. Prediction under no_grad
keeps only the layer being computed, so its peak is the largest layer output (plus its
input) on top of the parameters."""
from . import model_trace

__all__ = ["summary", "ModelStatistics"]

MB = 1e6  # torchinfo reports decimal megabytes


def _nbytes(tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def _unique_params(module):
    seen, out = set(), []
    for p in module.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


class ModelStatistics:
    """What `summary` measured; `str()` is the table. Counts are numbers of elements,
    sizes bytes."""

    def __init__(self, net, calls, inputs, depth):
        self.calls, self.depth = calls, depth
        params = _unique_params(net)
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.input_bytes = _nbytes(inputs)
        self.params_bytes = _nbytes(params)
        self.param_grads_bytes = _nbytes([p for p in params if p.requires_grad])
        leaf_outputs = [model_trace.tensors_in(c.outputs) for c in calls if c.is_leaf]
        self.forward_bytes = sum(_nbytes(ts) for ts in leaf_outputs)
        self.backward_bytes = self.forward_bytes  # one gradient per kept activation
        self.peak_activation_bytes = max(
            [_nbytes(model_trace.tensors_in(c.inputs)) + _nbytes(ts)
             for c, ts in zip((c for c in calls if c.is_leaf), leaf_outputs)] or [0])
        self.prediction_bytes = self.input_bytes + self.params_bytes + self.peak_activation_bytes
        self.training_bytes = (self.input_bytes + self.params_bytes + self.param_grads_bytes
                               + self.forward_bytes + self.backward_bytes)

    def rows(self):
        """(layer, output shape, param count) for the calls shown (depth <= self.depth)."""
        out = []
        for c in self.calls:
            if c.depth == 0 or c.depth > self.depth:
                continue
            indent = "    " * (c.depth - 1) + ("└─" if c.depth > 1 else "")
            label = f"{indent}{c.name.rsplit('.', 1)[-1]} ({c.kind})"
            shapes = c.output_shapes
            shape = str(shapes[0]) if len(shapes) == 1 else (str(shapes) if shapes else "--")
            n = sum(p.numel() for p in _unique_params(c.module))
            params = (f"{n:,}" if c.first else "(reused)") if n else "--"
            out.append((label, shape, params))
        return out

    def __str__(self):
        from ..train.tables import format_table
        header, *rows = format_table(["Layer (type)", "Output Shape", "Param #"], self.rows(),
                                     align="llr", sep="   ", rule=None).split("\n")
        rule = "=" * len(header)
        mb = lambda b: f"{b / MB:.2f}"
        text = [rule, header, rule] + rows
        text += [rule,
                 f"Total params: {self.total_params:,}",
                 f"Trainable params: {self.trainable_params:,}",
                 f"Non-trainable params: {self.non_trainable_params:,}",
                 rule,
                 f"Input size (MB): {mb(self.input_bytes)}",
                 f"Forward pass size (MB): {mb(self.forward_bytes)}",
                 f"Backward pass size (MB): {mb(self.backward_bytes)}",
                 f"Params size (MB): {mb(self.params_bytes)}",
                 f"Param grads size (MB): {mb(self.param_grads_bytes)}",
                 f"Estimated memory, prediction (MB): {mb(self.prediction_bytes)}",
                 f"Estimated memory, training (MB): {mb(self.training_bytes)}",
                 "(training keeps every activation for backward and adds their gradients "
                 "and the parameters'; optimizer state such as Adam's moments comes on top)",
                 rule]
        return "\n".join(text)

    __repr__ = __str__


def summary(net, input_size=(1, 784), dtypes=None, depth=3, input_data=None, verbose=1):
    """Summarise `net` run once (eval mode, no_grad) on a zero batch of `input_size`
    (batch dimension included; default one flattened 28x28 image, (1, 784); a list of
    shapes for several inputs) or on `input_data`. Lazy modules are materialised by this
    run. Rows go `depth` levels into nested modules. Prints the table when verbose=1 and
    returns a ModelStatistics."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"summary: depth must be a non-negative integer, got {depth!r}")
    inputs = model_trace.make_inputs("summary", input_size, dtypes, input_data)
    calls, _ = model_trace.trace(net, inputs, "summary")
    stats = ModelStatistics(net, calls, inputs, depth)
    if verbose:
        print(stats)
    return stats
