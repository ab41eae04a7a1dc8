"""SummaryWriter and the TensorBoard callback: event files read back with TensorBoard's
own EventAccumulator carry the values written."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.train import TensorBoard, fit
from chainrule.utils.tensorboard import SummaryWriter

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(path):
    return event_accumulator.EventAccumulator(
        os.fspath(path), size_guidance={"tensors": 0, "scalars": 0, "histograms": 0}).Reload()


def scalars(ea, tag):
    return [(e.step, e.value) for e in ea.Scalars(tag)]


def test_add_scalar_values_and_steps_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", 2.5, 0)
        w.add_scalar("loss", cr.tensor(1.25), 1)                     # 0-d tensor
        w.add_scalar("loss", cr.tensor([0.5], dtype=cr.float16), 2)  # one-element float16
        w.add_scalar("loss", 3, cr.tensor(3))                        # int value, tensor step
        w.add_scalar("big", 1e30, 0)
        w.add_scalar("big", float("nan"), 1)
    ea = read(tmp_path)
    assert scalars(ea, "loss") == [(0, 2.5), (1, 1.25), (2, 0.5), (3, 3.0)]
    big = scalars(ea, "big")
    assert big[0] == (0, pytest.approx(1e30, rel=1e-6)) and np.isnan(big[1][1])


def test_add_scalar_rejects_what_is_not_one_number(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="add_scalar: expected a single number.*\\(2,\\)"):
            w.add_scalar("x", cr.ones(2), 0)
        with pytest.raises(TypeError, match="add_scalar: expected a number"):
            w.add_scalar("x", "1.0", 0)
        with pytest.raises(TypeError, match="add_scalar: tag must be a non-empty string"):
            w.add_scalar("", 1.0, 0)
        with pytest.raises(TypeError, match="add_scalar: global_step must be an integer"):
            w.add_scalar("x", 1.0, 1.5)


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("loss", {"train": 1.0 / (step + 1), "val": cr.tensor(2.0 * step)}, step)
    assert scalars(read(tmp_path / "loss_train"), "loss") == [(0, 1.0), (1, 0.5),
                                                              (2, pytest.approx(1 / 3))]
    assert scalars(read(tmp_path / "loss_val"), "loss") == [(0, 0.0), (1, 2.0), (2, 4.0)]


def test_add_histogram_records_count_sum_and_range_of_the_values(tmp_path):
    values = cr.randn(1000) * 3 + 1
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", values, 7)
    h = read(tmp_path).Histograms("w")[0]
    v = values.numpy().astype(np.float64)
    assert h.step == 7
    hv = h.histogram_value
    assert hv.num == 1000 and hv.min == pytest.approx(v.min()) and hv.max == pytest.approx(v.max())
    assert hv.sum == pytest.approx(v.sum(), rel=1e-9, abs=1e-9 * np.abs(v).sum())
    assert hv.sum_squares == pytest.approx((v * v).sum(), rel=1e-9)
    assert sum(hv.bucket) == 1000


def test_add_histogram_refuses_empty_or_non_finite_values(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="add_histogram: the values are empty"):
            w.add_histogram("w", cr.zeros(0), 0)
        with pytest.raises(ValueError, match="add_histogram: .*1 NaN, 1 inf"):
            w.add_histogram("w", cr.tensor([1.0, float("nan"), float("inf")]), 0)


def test_add_text_reads_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "lr 0.1, **two** layers", 3)
    t = read(tmp_path).Tensors("notes/text_summary")[0]
    assert t.step == 3 and t.tensor_proto.string_val[0] == b"lr 0.1, **two** layers"


def test_add_hparams_writes_the_hparams_plugin_and_metrics_to_its_own_run(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "optimizer": "sgd", "bn": True}, {"hp/accuracy": 0.75},
                      run_name="trial0")
        with pytest.raises(TypeError, match="add_hparams: hparam 'layers' must be a bool"):
            w.add_hparams({"layers": [1, 2]}, {"hp/accuracy": 0.5})
    ea = read(tmp_path / "trial0")
    assert scalars(ea, "hp/accuracy") == [(0, 0.75)]
    from tensorboard.plugins.hparams import plugin_data_pb2
    content = ea.PluginTagToContent("hparams")
    session = next(plugin_data_pb2.HParamsPluginData.FromString(c).session_start_info
                   for c in content.values()
                   if plugin_data_pb2.HParamsPluginData.FromString(c).HasField(
                       "session_start_info"))
    assert session.hparams["lr"].number_value == 0.1
    assert session.hparams["optimizer"].string_value == "sgd"
    assert session.hparams["bn"].bool_value is True


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(4, 3), nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * 2  # the product belongs to Block itself


def test_add_graph_names_ops_inside_the_scope_of_the_module_that_ran_them(tmp_path):
    net = nn.Sequential(Block(), nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(net, cr.randn(5, 4))
    nodes = {n.name: n for n in read(tmp_path).Graph().node}
    ops = sorted((n.op, name.rsplit("/", 1)[0]) for name, n in nodes.items()
                 if n.op not in ("IO Node", "Parameter"))
    assert ops == [("Addmm", "Sequential/Block[0]/Linear[fc]"), ("Addmm", "Sequential/Linear[1]"),
                   ("Mul", "Sequential/Block[0]"), ("Relu", "Sequential/Block[0]/ReLU[act]")]
    first = next(n for n in nodes.values() if n.name.startswith("Sequential/Block[0]/Linear"
                                                                  "[fc]/Addmm"))
    assert list(first.input) == ["input/input.0", "Sequential/Block[0]/Linear[fc]/weight",
                                 "Sequential/Block[0]/Linear[fc]/bias"]
    out = nodes["output/output.0"]
    assert [d.size for d in out.attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    assert nodes[out.input[0]].op == "Addmm"
    assert net.training and not any(p.grad is not None for p in net.parameters())


def test_add_graph_ops_are_the_forward_ops_pytorch_records():
    # the GraphDef's ops are the recorded backward nodes named by their forward op
    x = cr.randn(3, 4)
    w = nn.Parameter(cr.randn(4, 2))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = w

        def forward(self, x):
            return (x @ self.w).tanh().sum(1)

    from chainrule.utils.tensorboard import graph as tbgraph
    gd = tbgraph.graph_def(M(), (x,))
    tx = torch.randn(3, 4, requires_grad=True)
    ty = (tx @ torch.randn(4, 2, requires_grad=True)).tanh().sum(1)
    torch_ops, fn = [], ty.grad_fn
    while fn is not None and type(fn).__name__ != "AccumulateGrad":
        torch_ops.append(type(fn).__name__.replace("Backward0", "").replace("Backward1", ""))
        fn = fn.next_functions[0][0]
    assert sorted(n.op for n in gd.node if n.op not in ("IO Node", "Parameter")) == \
        sorted(torch_ops)


def test_add_graph_needs_an_input(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="add_graph: pass input_to_model"):
            w.add_graph(nn.Linear(2, 2))


def test_flush_makes_events_readable_before_close(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=10_000)
    w.add_scalar("a", 1.0, 0)
    w.flush()
    assert scalars(read(tmp_path), "a") == [(0, 1.0)]
    w.close()


def test_writing_after_close_starts_a_new_event_file(tmp_path):
    w = SummaryWriter(tmp_path)
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.close()  # closing twice is harmless
    w.add_scalar("a", 2.0, 1)
    w.close()
    assert len(os.listdir(tmp_path)) == 2
    assert scalars(read(tmp_path), "a") == [(0, 1.0), (1, 2.0)]


def test_purge_step_writes_a_session_start_at_that_step(tmp_path):
    with SummaryWriter(tmp_path, purge_step=5) as w:
        w.add_scalar("a", 1.0, 5)
    assert scalars(read(tmp_path), "a") == [(5, 1.0)]


def test_default_log_dir_is_under_runs_with_the_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        assert w.log_dir.startswith("runs") and w.log_dir.endswith("_lr0.1")
        assert w.get_logdir() == w.log_dir


def test_unsupported_summaries_are_named(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(NotImplementedError, match="SummaryWriter.add_image is not supported"):
            w.add_image("img", cr.zeros(3, 4, 4))


def test_missing_tensorboardx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[tensorboard\]'"):
        SummaryWriter(tmp_path)


def _data(n=48):
    g = cr.Generator().manual_seed(0)
    X = cr.randn(n, 4, generator=g)
    return X, (X[:, 0] > 0).long()


def _fit(tmp_path, epochs=3, **kw):
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    cb = TensorBoard(tmp_path, **kw)
    h = fit(net, _data(), validation_split=0.25, loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.SGD(net.parameters(), lr=0.1), epochs=epochs, batch_size=12,
            callbacks=[cb], progress=False)
    return net, h


def test_tensorboard_callback_logs_fits_epoch_metrics_in_train_and_validation_runs(tmp_path):
    _, h = _fit(tmp_path)
    train, val = read(tmp_path / "train"), read(tmp_path / "validation")
    for key in ("loss", "accuracy"):
        assert scalars(train, f"epoch_{key}") == [(i, pytest.approx(v, rel=1e-6))
                                                  for i, v in enumerate(h.history[key])]
        assert scalars(val, f"epoch_{key}") == [(i, pytest.approx(v, rel=1e-6))
                                                for i, v in enumerate(h.history[f"val_{key}"])]
    assert scalars(train, "epoch_lr") == [(0, pytest.approx(0.1))] * 1 + \
        [(1, pytest.approx(0.1)), (2, pytest.approx(0.1))]
    assert "batch_loss" not in train.Tags()["scalars"] and not train.Tags()["graph"]


def test_tensorboard_callback_update_freq_logs_batch_losses(tmp_path):
    _fit(tmp_path / "every", update_freq="batch")      # 36 training rows / 12 = 3 batches
    _fit(tmp_path / "second", update_freq=2)
    assert [s for s, _ in scalars(read(tmp_path / "every" / "train"), "batch_loss")] == \
        list(range(1, 10))
    assert [s for s, _ in scalars(read(tmp_path / "second" / "train"), "batch_loss")] == \
        [2, 4, 6, 8]


def test_tensorboard_callback_histograms_and_graph(tmp_path):
    net, _ = _fit(tmp_path, epochs=3, histogram_freq=2, write_graph=True)
    train = read(tmp_path / "train")
    assert sorted(train.Tags()["histograms"]) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert [h.step for h in train.Histograms("0.weight")] == [0, 2]
    last = train.Histograms("2.bias")[-1].histogram_value
    assert last.num == 2 and last.sum == pytest.approx(float(net[2].bias.sum()), abs=1e-6)
    ops = [n.op for n in train.Graph().node]
    assert ops.count("Addmm") == 2 and ops.count("Relu") == 1


def test_tensorboard_callback_skips_histograms_of_non_finite_weights(tmp_path):
    net = nn.Sequential(nn.Linear(2, 1))
    cb = TensorBoard(tmp_path, histogram_freq=1)
    cb.model = net
    cb.on_train_begin()
    with cr.no_grad():
        net[0].weight[0, 0] = float("nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_train_end()
    assert any("'0.weight' has NaN/inf" in str(c.message) for c in caught)
    assert read(tmp_path / "train").Tags()["histograms"] == ["0.bias"]


def test_tensorboard_callback_rejects_bad_arguments():
    with pytest.raises(ValueError, match="TensorBoard: update_freq"):
        TensorBoard("logs", update_freq="step")
    with pytest.raises(ValueError, match="TensorBoard: histogram_freq"):
        TensorBoard("logs", histogram_freq=-1)
