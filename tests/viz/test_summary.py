"""chainrule.summary: rows, shapes and parameter counts agree with the same model built
in PyTorch; totals split trainable from frozen; the memory estimate adds up and shows
that training needs more than prediction."""
import pytest
import torch

import chainrule as cr
from chainrule import nn


def torch_rows(tnet, x):
    """(class name, output shape, own parameter count) of each leaf module call."""
    rows = []

    def hook(m, args, out):
        rows.append((type(m).__name__, list(out.shape), sum(p.numel() for p in m.parameters())))

    handles = [m.register_forward_hook(hook) for m in tnet.modules()
               if not list(m.children())]
    tnet(x)
    for h in handles:
        h.remove()
    return rows


def leaf_rows(stats):
    return [(c.kind, c.output_shapes[0], sum(p.numel() for p in c.module.parameters()))
            for c in stats.calls if c.is_leaf]


def test_summary_rows_match_the_same_model_built_in_torch():
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
                        nn.Linear(256, 10))
    tnet = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Dropout(0.1), torch.nn.Linear(256, 10))
    stats = cr.summary(net, (2, 1, 28, 28), verbose=0)
    assert leaf_rows(stats) == torch_rows(tnet, torch.zeros(2, 1, 28, 28))
    assert stats.total_params == sum(p.numel() for p in tnet.parameters()) == 203530


def test_summary_counts_frozen_parameters_as_non_trainable():
    net = nn.Sequential(nn.Linear(10, 5), nn.Linear(5, 2))
    net[0].requires_grad_(False)
    stats = cr.summary(net, (1, 10), verbose=0)
    assert (stats.total_params, stats.trainable_params, stats.non_trainable_params) == \
        (67, 12, 55)
    text = str(stats)
    assert "Total params: 67" in text and "Trainable params: 12" in text
    assert "Non-trainable params: 55" in text


def test_summary_materialises_lazy_modules_with_a_dry_run():
    net = nn.Sequential(nn.LazyLinear(6), nn.ReLU(), nn.LazyLinear(3))
    stats = cr.summary(net, (4, 9), verbose=0)
    assert net[0].weight.shape == (6, 9) and net[2].weight.shape == (3, 6)
    assert stats.total_params == 9 * 6 + 6 + 6 * 3 + 3
    assert [r[1] for r in stats.rows()] == ["[4, 6]", "[4, 6]", "[4, 3]"]


def test_summary_memory_estimate_adds_up_and_training_needs_more():
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    s = cr.summary(net, (32, 784), verbose=0)
    f4 = 4  # float32 bytes
    params = (784 * 256 + 256 + 256 * 10 + 10) * f4
    acts = (32 * 256 + 32 * 256 + 32 * 10) * f4
    assert s.input_bytes == 32 * 784 * f4
    assert s.params_bytes == s.param_grads_bytes == params
    assert s.forward_bytes == s.backward_bytes == acts
    assert s.peak_activation_bytes == (32 * 784 + 32 * 256) * f4  # first layer's in + out
    assert s.prediction_bytes == s.input_bytes + params + s.peak_activation_bytes
    assert s.training_bytes == s.input_bytes + 2 * params + 2 * acts
    assert s.training_bytes > s.prediction_bytes
    text = str(s)
    assert f"Estimated memory, training (MB): {s.training_bytes / 1e6:.2f}" in text
    assert f"Estimated memory, prediction (MB): {s.prediction_bytes / 1e6:.2f}" in text


def test_summary_memory_follows_the_dtypes_of_inputs_and_parameters():
    net = nn.Sequential(nn.Linear(8, 4)).double()
    s = cr.summary(net, (3, 8), dtypes=[cr.float64], verbose=0)
    assert s.input_bytes == 3 * 8 * 8 and s.params_bytes == 36 * 8
    h = cr.summary(nn.Sequential(nn.Linear(8, 4)).half(), (3, 8), dtypes=[cr.float16],
                   verbose=0)
    assert h.input_bytes == 3 * 8 * 2 and h.forward_bytes == 3 * 4 * 2


def test_summary_depth_limits_the_nested_rows_but_not_the_totals():
    net = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
    deep, shallow = cr.summary(net, (1, 4), verbose=0), cr.summary(net, (1, 4), depth=1,
                                                                   verbose=0)
    assert [r[0] for r in deep.rows()] == ["0 (Linear)", "1 (Sequential)",
                                           "    └─0 (Linear)", "    └─1 (ReLU)"]
    assert [r[0] for r in shallow.rows()] == ["0 (Linear)", "1 (Sequential)"]
    assert shallow.rows()[1][2] == "20"  # a container shows its parameters in total
    assert deep.total_params == shallow.total_params == 40


def test_summary_counts_a_module_used_twice_once():
    lin = nn.Linear(3, 3)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    s = cr.summary(net, (1, 3), verbose=0)
    assert s.total_params == 12
    assert [r[2] for r in s.rows()] == ["12", "--", "(reused)"]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(5, 2)

    def forward(self, x, y):
        return self.a(x) * self.b(y)


def test_summary_runs_several_inputs_and_input_data():
    s = cr.summary(TwoInputs(), [(2, 3), (2, 5)], verbose=0)
    assert s.input_bytes == (6 + 10) * 4 and s.total_params == 8 + 12
    s2 = cr.summary(TwoInputs(), input_data=(cr.ones(4, 3), cr.ones(4, 5)), verbose=0)
    assert [r[1] for r in s2.rows()] == ["[4, 2]", "[4, 2]"]


def test_summary_leaves_the_model_as_it_was(capsys):
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5))
    net[1].eval()
    cr.summary(net, (1, 3))
    assert "Layer (type)" in capsys.readouterr().out
    assert net.training and not net[1].training
    assert not any(m.__dict__.get("_forward_hooks") or m.__dict__.get("_forward_pre_hooks")
                   for m in net.modules())
    assert net(cr.ones(1, 3)).requires_grad  # grad mode back on


def test_summary_rejects_bad_arguments_naming_them():
    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="summary: pass input_size"):
        cr.summary(net, input_size=None, verbose=0)
    with pytest.raises(ValueError, match="summary: input_size must be a shape"):
        cr.summary(net, (1, 2.5), verbose=0)
    with pytest.raises(ValueError, match="summary: dtypes must be a list"):
        cr.summary(net, (1, 3), dtypes=["float32"], verbose=0)
    with pytest.raises(ValueError, match="summary: depth"):
        cr.summary(net, (1, 3), depth=-1, verbose=0)
    with pytest.raises(TypeError, match="summary: expected a chainrule.nn.Module"):
        cr.summary(torch.nn.Linear(3, 2), (1, 3), verbose=0)
    with pytest.raises(RuntimeError, match=r"summary: running the model .*\(1, 4\)"):
        cr.summary(net, (1, 4), verbose=0)


def test_summary_defaults_to_one_flattened_mnist_image():
    s = cr.summary(nn.Sequential(nn.Linear(784, 10)), verbose=0)
    assert s.input_bytes == 784 * 4 and s.rows()[0][1] == "[1, 10]"


def test_summary_of_an_empty_batch_reports_zero_activation_memory():
    s = cr.summary(nn.Sequential(nn.Linear(3, 2)), (0, 3), verbose=0)
    assert s.input_bytes == s.forward_bytes == 0 and s.params_bytes == 8 * 4
