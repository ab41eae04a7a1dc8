"""chainrule.compile: a replayed step leaves exactly the weights, gradients, optimizer
state and generator state that eager execution leaves, bit for bit."""
import copy
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn
from helpers import replaying as _replaying


def _batches(n, rows, cols, classes=None, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        X = chainrule.tensor(rng.standard_normal((rows, cols)).astype(dtype))
        if classes is None:
            y = chainrule.tensor(rng.standard_normal((rows, 1)).astype(dtype))
        else:
            y = chainrule.tensor(rng.integers(0, classes, rows))
        out.append((X, y))
    return out


def _twins(build, make_opt):
    chainrule.manual_seed(0)
    a = build()
    b = copy.deepcopy(a)
    return a, make_opt(a), b, make_opt(b)


def _assert_same(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p._data, q._data), name
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            assert np.array_equal(p.grad._data, q.grad._data), name


def _run_pair(build, make_opt, loss_fn, data, epochs=3, seed_each_epoch=True):
    a, opt_a, b, opt_b = _twins(build, make_opt)

    def step(model, opt):
        def train_step(X, y):
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            return loss
        return train_step

    compiled = chainrule.compile(step(a, opt_a))
    eager = step(b, opt_b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback would fail the test
        for epoch in range(epochs):
            for fn in (compiled, eager):
                if seed_each_epoch:
                    chainrule.manual_seed(100 + epoch)  # the same draws for both runs
                losses = [fn(X, y).item() for X, y in data]
                losses.append(chainrule.rand(1).item())  # the generator state after it
                if fn is compiled:
                    compiled_losses = losses
            assert compiled_losses == losses
    assert _replaying(compiled)
    _assert_same(a, b)
    return a, opt_a, b, opt_b


def test_compiled_linear_regression_matches_eager_bit_for_bit():
    _run_pair(lambda: nn.Linear(3, 1), lambda m: chainrule.optim.SGD(m.parameters(), lr=0.03),
              nn.MSELoss(), _batches(6, 10, 3))


def test_compiled_softmax_regression_matches_eager_bit_for_bit():
    _run_pair(lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 4)),
              lambda m: chainrule.optim.SGD(m.parameters(), lr=0.1),
              nn.CrossEntropyLoss(), _batches(6, 16, 12, classes=4))


def test_compiled_mlp_with_dropout_and_weight_decay_consumes_the_generator_like_eager():
    build = lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.5),  # noqa: E731
                                  nn.Linear(32, 5))
    _run_pair(build, lambda m: chainrule.optim.SGD(m.parameters(), lr=0.1, weight_decay=1e-3),
              nn.CrossEntropyLoss(), _batches(5, 16, 20, classes=5))


def test_compiled_dropout_masks_differ_between_replays_and_follow_the_seed():
    model = nn.Sequential(nn.Dropout(0.5))
    fn = chainrule.compile(lambda x: model(x) * 1)
    x = chainrule.ones(64)
    masks = [fn(x)._data.copy() for _ in range(4)]  # two recordings, then replays
    assert not np.array_equal(masks[2], masks[3])   # a replay draws again
    chainrule.manual_seed(7)
    replayed = fn(x)._data.copy()
    chainrule.manual_seed(7)
    eager = model(x)._data
    assert np.array_equal(replayed, eager)


def test_compiled_main_job_model_under_adam_matches_eager_bit_for_bit():
    build = lambda: nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128),  # noqa: E731
                                  nn.ReLU(), nn.Linear(128, 10))
    a, opt_a, b, opt_b = _run_pair(build, lambda m: chainrule.optim.Adam(m.parameters(), lr=1e-3),
                                   nn.CrossEntropyLoss(), _batches(5, 32, 64, classes=10))
    for p, q in zip(a.parameters(), b.parameters()):
        sa, sb = opt_a.state[p], opt_b.state[q]
        assert np.array_equal(sa["exp_avg"]._data, sb["exp_avg"]._data)
        assert np.array_equal(sa["exp_avg_sq"]._data, sb["exp_avg_sq"]._data)
        assert float(sa["step"]._data) == float(sb["step"]._data) == 15


def test_compiled_sgd_with_momentum_matches_eager_bit_for_bit():
    build = lambda: nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))  # noqa: E731
    _run_pair(build, lambda m: chainrule.optim.SGD(m.parameters(), lr=0.05, momentum=0.9),
              nn.MSELoss(), _batches(5, 12, 8))


def test_compiled_scratch_linear_regression_with_d2l_sgd_and_global_parameters():
    """d2l 3.2: parameters are global tensors, the update is in-place arithmetic."""
    from chainrule import d2l
    rng = np.random.default_rng(1)
    data = _batches(5, 10, 2, seed=3)
    runs = []
    for compiled in (True, False):
        w = chainrule.tensor(rng.standard_normal((2, 1)).astype(np.float32) * 0 + 0.01,
                             requires_grad=True)
        b = chainrule.zeros(1, requires_grad=True)

        def step(X, y, w=w, b=b):
            loss = d2l.squared_loss(d2l.linreg(X, w, b), y)
            loss.sum().backward()
            d2l.sgd([w, b], 0.03, 10)
            return loss.sum()
        fn = chainrule.compile(step) if compiled else step
        for _ in range(4):
            for X, y in data:
                fn(X, y)
        runs.append((w._data.copy(), b._data.copy()))
        if compiled:
            assert _replaying(fn)
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_compiled_function_records_again_for_a_new_shape():
    fn = chainrule.compile(lambda x: (x * 2).sum())
    for n in (3, 3, 3, 5, 5, 5):
        out = fn(chainrule.arange(float(n)))
        assert out.item() == 2 * sum(range(n))
    assert len(fn._cache) == 2 and all(e.verified for [e] in fn._cache.values())


def test_compiled_module_switch_between_train_and_eval_records_separately():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    fn = chainrule.compile(lambda x: model(x))
    x = chainrule.ones(2, 4)
    with chainrule.no_grad():
        model.eval()
        evals = [fn(x)._data.copy() for _ in range(3)]
        model.train()
        trains = [fn(x)._data.copy() for _ in range(3)]
        model.eval()
        again = fn(x)._data
    assert all(np.array_equal(e, evals[0]) for e in evals + [again])
    assert not np.array_equal(trains[0], evals[0])
    assert len(fn._cache) == 2


def test_check_true_raises_naming_the_kernel_of_a_value_dependent_branch():
    def branchy(x):
        if x.sum().item() > 0:   # a value taken out and branched on
            return x * 2
        return x - 1
    fn = chainrule.compile(branchy, check=True)
    fn(chainrule.ones(3))
    with pytest.raises(RuntimeError, match=r"check=True.*kernel \d+"):
        fn(-chainrule.ones(3))


def test_value_dependent_branch_without_check_keeps_a_recording_per_value():
    def branchy(x):
        return x * 2 if x.sum().item() > 0 else x - 1
    fn = chainrule.compile(branchy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):   # each sign recorded twice, then replayed
            assert fn(chainrule.ones(3)).tolist() == [2.0, 2.0, 2.0]
            assert fn(-chainrule.ones(3)).tolist() == [-2.0, -2.0, -2.0]
    [entries] = fn._cache.values()
    assert len(entries) == 2 and all(e.verified for e in entries)


def test_branch_on_a_tensor_truth_value_is_guarded_on_replay():
    def branchy(x):
        return x * 2 if (x > 0).all() else x - 1
    fn = chainrule.compile(branchy)
    for _ in range(3):
        fn(chainrule.ones(3))
    with pytest.raises(RuntimeError, match="branches on tensor values"):
        fn(-chainrule.ones(3))


def test_a_python_number_from_a_tensor_fed_back_into_arithmetic_is_not_frozen():
    def scaled(x):
        return x * x.max().item()
    fn = chainrule.compile(scaled)
    with pytest.warns(RuntimeWarning, match="runs eagerly.*keep changing"):
        results = [fn(chainrule.tensor([float(k), 1.0])).tolist() for k in range(2, 14)]
    assert results == [[float(k * k), float(k)] for k in range(2, 14)]


def test_custom_function_falls_back_with_one_warning_and_correct_numbers():
    class Double(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    fn = chainrule.compile(lambda x: Double.apply(x) + 1)
    with pytest.warns(RuntimeWarning, match="custom autograd.Function Double") as record:
        first = fn(chainrule.ones(2))
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outs = [fn(chainrule.full((2,), float(k))).tolist() for k in (1, 2, 3)]
    assert first.tolist() == [3.0, 3.0] and outs == [[3.0, 3.0], [5.0, 5.0], [7.0, 7.0]]


def test_module_with_a_printing_hook_runs_eagerly_with_a_warning(capsys):
    model = nn.Linear(2, 2)
    model.register_forward_hook(lambda m, i, o: print("hook ran"))
    fn = chainrule.compile(lambda x: model(x))
    with pytest.warns(RuntimeWarning, match="hooks"):
        fn(chainrule.ones(1, 2))
    for _ in range(3):
        fn(chainrule.ones(1, 2))
    assert capsys.readouterr().out.count("hook ran") == 4


def test_loss_item_inside_the_step_returns_the_fresh_value():
    model = nn.Linear(3, 1)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)

    def step(X, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        return loss.item()
    fn = chainrule.compile(step)
    data = _batches(6, 4, 3)
    chainrule.manual_seed(0)
    twin = copy.deepcopy(model)
    values = [fn(X, y) for X, y in data]
    opt2 = chainrule.optim.SGD(twin.parameters(), lr=0.1)
    expected = []
    for X, y in data:
        opt2.zero_grad()
        loss = nn.functional.mse_loss(twin(X), y)
        loss.backward()
        opt2.step()
        expected.append(loss.item())
    assert values == expected and isinstance(values[-1], float)


def test_returned_tensors_are_fresh_between_replays():
    fn = chainrule.compile(lambda x: x + 1)
    outs = [fn(chainrule.full((2,), float(k))) for k in range(5)]
    assert [o.tolist() for o in outs] == [[float(k + 1)] * 2 for k in range(5)]


def test_torch_compile_alias_accepts_and_ignores_mode_backend_fullgraph():
    import chainrule as torch
    fn = torch.compile(lambda x: x * 3, mode="max-autotune", backend="inductor",
                       fullgraph=True, dynamic=False)
    assert [fn(torch.ones(1)).item() for _ in range(4)] == [3.0] * 4

    @torch.compile(check=True)
    def twice(x):
        return x * 2
    assert twice(torch.ones(1)).item() == 2.0


def test_compile_of_something_not_callable_names_what_it_got():
    with pytest.raises(TypeError, match="expected a function or an nn.Module, got int"):
        chainrule.compile(3)


def test_compiled_module_replays_inference_and_keeps_state_dict_keys():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    compiled = chainrule.compile(model)
    assert list(compiled.state_dict()) == list(model.state_dict())
    x = chainrule.randn(2, 4)
    with chainrule.no_grad():
        outs = [compiled(x)._data.copy() for _ in range(4)]
        expected = model(x)._data
    assert all(np.array_equal(o, expected) for o in outs)
    out = compiled(x).sum()   # a training call: its backward is replayed too
    out.backward()
    assert model[0].weight.grad is not None


def _module_training_pair(steps, build, data):
    chainrule.manual_seed(0)
    net = build()
    twin = copy.deepcopy(net)
    compiled = chainrule.compile(net)
    opts = [chainrule.optim.Adam(m.parameters(), lr=1e-2) for m in (net, twin)]
    losses = []
    for i, (X, y) in enumerate(data[:steps]):
        for model, opt in ((compiled, opts[0]), (twin, opts[1])):
            chainrule.manual_seed(i)
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return net, twin, compiled, losses


def test_compiled_model_replays_forward_and_backward_of_training_calls_like_eager():
    build = lambda: nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2),  # noqa: E731
                                  nn.Linear(16, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        net, twin, compiled, losses = _module_training_pair(6, build, _batches(6, 5, 8, classes=3))
    assert losses[0::2] == losses[1::2]
    _assert_same(net, twin)
    net.zero_grad()   # the loop's signature: no .grad yet
    out = compiled(chainrule.randn(5, 8))
    assert type(out.grad_fn).__name__ == "CompiledBackward"


def test_backward_of_a_compiled_model_call_after_a_later_call_raises():
    chainrule.manual_seed(0)
    net = nn.Linear(3, 2)
    compiled = chainrule.compile(net)
    x = chainrule.ones(4, 3)
    for _ in range(4):   # grads None, then set: two signatures, each recorded twice
        compiled(x).sum().backward()
    first = compiled(x).sum()
    second = compiled(x * 2).sum()
    second.backward()
    with pytest.raises(RuntimeError, match="after a later call of the model"):
        first.backward()


def test_compiled_model_with_an_input_that_requires_grad_runs_eagerly():
    net = nn.Linear(3, 1)
    compiled = chainrule.compile(net)
    x = chainrule.ones(2, 3, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="argument requires grad"):
        compiled(x).sum().backward()
    assert x.grad.tolist() == [net.weight[0].tolist()] * 2


def test_numpy_call_outside_the_trace_is_caught_instead_of_replayed_wrong():
    def sneaky(x):
        y = x * 2
        alias = np.asarray(y._data)            # a plain view: NumPy calls on it are unseen
        np.multiply(alias, 3, out=alias)
        return y + 1
    fn = chainrule.compile(sneaky)
    with pytest.warns(RuntimeWarning, match="outside the trace"):
        first = fn(chainrule.ones(2))
    outs = [fn(chainrule.full((2,), float(k))).tolist() for k in (1, 2, 3)]
    assert first.tolist() == [7.0, 7.0] and outs == [[7.0, 7.0], [13.0, 13.0], [19.0, 19.0]]


def test_check_true_raises_for_a_numpy_call_outside_the_trace():
    def sneaky(x):
        y = x * 2
        np.asarray(y._data)[0] = 5.0
        return y
    with pytest.raises(RuntimeError, match="outside the trace"):
        chainrule.compile(sneaky, check=True)(chainrule.ones(2))


def test_grad_accumulated_across_calls_without_zero_grad_matches_eager():
    model, twin = nn.Linear(2, 1), None
    twin = copy.deepcopy(model)

    def accumulate(m):
        def step(X):
            m(X).sum().backward()
        return step
    fn, eager = chainrule.compile(accumulate(model)), accumulate(twin)
    for k in range(5):
        X = chainrule.full((3, 2), float(k))
        fn(X)
        eager(X)
    assert np.array_equal(model.weight.grad._data, twin.weight.grad._data)
    assert model.weight.grad.tolist() == [[30.0, 30.0]]
    assert _replaying(fn)


def test_step_with_gradient_clipping_and_a_scheduler_matches_eager():
    build = lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))  # noqa: E731
    chainrule.manual_seed(0)
    a = build()
    b = copy.deepcopy(a)
    runs = []
    for model, compiled in ((a, True), (b, False)):
        opt = chainrule.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(X, y, model=model, opt=opt, sched=sched):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            sched.step()
            return loss
        fn = chainrule.compile(step) if compiled else step
        runs.append([fn(X, y).item() for X, y in _batches(6, 5, 6, classes=3)])
        runs.append(opt.param_groups[0]["lr"])
        if compiled:
            assert _replaying(fn)
    assert runs[0] == runs[2] and runs[1] == runs[3] == 0.5 * 0.5 ** 3
    _assert_same(a, b)


def _fit_run(compile, seen):
    from chainrule.train import Callback, fit

    class Watch(Callback):
        def on_train_end(self, logs=None):
            seen.append(self.trainer.compiled_step)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    history = fit(model, (X, y), loss="cross_entropy", optimizer="adam", lr=1e-2, epochs=3,
                  batch_size=32, seed=1, progress=False, compile=compile,
                  validation_split=0.2, callbacks=[Watch()])
    return history, model


def test_fit_compile_true_gives_the_eager_history_and_weights():
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        compiled, model_c = _fit_run(True, seen)
        eager, model_e = _fit_run(False, seen)
    assert seen[0] is not None and _replaying(seen[0].fn) and seen[1] is None
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert compiled.history[key] == eager.history[key], key
    _assert_same(model_c, model_e)


def test_fit_compile_true_reports_a_nan_loss_like_eager():
    from chainrule.train import fit
    X = np.ones((64, 2), np.float32)
    y = np.ones((64, 1), np.float32)
    results = []
    for compile in (True, False):
        chainrule.manual_seed(0)
        model = nn.Linear(2, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            h = fit(model, (X, y), loss="mse", optimizer="sgd", lr=1e3, epochs=6,
                    batch_size=8, progress=False, compile=compile)
        results.append((h.stop_reason, h.history["loss"]))
    assert results[0][0] == results[1][0] == "nan"
    assert len(results[0][1]) == len(results[1][1])


@pytest.mark.slow
def test_cli_train_compile_writes_the_same_run_as_eager(tmp_path):
    import json
    from cli_helpers import ok, run_cli
    for name, extra in (("compiled", ["--compile"]), ("eager", [])):
        ok(run_cli(tmp_path, "train", "--epochs", "3", "--patience", "0", "--quiet",
                   "--name", name, *extra))
    histories = [json.loads((tmp_path / "runs" / n / "history.json").read_text())["history"]
                 for n in ("compiled", "eager")]
    assert histories[0]["loss"] == histories[1]["loss"]
    assert histories[0]["val_loss"] == histories[1]["val_loss"]
    config = json.loads((tmp_path / "runs" / "compiled" / "config.json").read_text())
    assert config["compile"] is True


def test_function_that_modifies_its_argument_in_place_runs_eagerly_and_keeps_the_write():
    def bump(x):
        x.add_(1)
        return x * 2
    fn = chainrule.compile(bump)
    x = chainrule.zeros(2)
    with pytest.warns(RuntimeWarning, match="modifies an argument in place"):
        out = fn(x)
    assert x.tolist() == [1.0, 1.0] and out.tolist() == [2.0, 2.0]
    fn(x)
    assert x.tolist() == [2.0, 2.0]


def test_returning_a_small_int_from_a_tensor_is_not_frozen():
    fn = chainrule.compile(lambda x: int((x > 0).sum().item()))
    with pytest.warns(RuntimeWarning, match="small int"):
        fn(chainrule.tensor([1.0, -1.0]))
    assert [fn(chainrule.tensor(v)) for v in ([1.0, 1.0], [-1.0, -1.0], [1.0, -1.0])] == [2, 0, 1]


def _compiled_twin_agrees(make, inputs):
    """`make()` gives (w, step) over its own w; compiled and eager twins see the same inputs."""
    (w1, s1), (w2, s2) = make(), make()
    fn = chainrule.compile(s1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for x in inputs:
            assert fn(x)._data.tobytes() == s2(x)._data.tobytes()
    assert np.array_equal(w1._data, w2._data) and _replaying(fn)


def test_inplace_on_a_view_inside_a_compiled_training_step_matches_eager():
    def make():
        w = chainrule.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)

        def step(x):
            h = w * x
            h[:, 0:2].mul_(3)           # in place on a view of a non-leaf
            h.select(1, 2).add_(h[:, 0])
            loss = (h ** 2).sum()
            loss.backward()
            with chainrule.no_grad():
                w.sub_(0.001 * w.grad)
                w.grad.zero_()
            return loss
        return w, step
    _compiled_twin_agrees(make, [chainrule.tensor(
        np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3) * (k + 1)) for k in range(5)])


def test_float16_and_integer_steps_replay_like_eager():
    lin = nn.Linear(4, 2).half()
    twin = copy.deepcopy(lin)
    fn = chainrule.compile(lambda x: lin(x).sum() * 0.5)
    ints = chainrule.compile(lambda n: (n * 3 + 1) // 2 - n % 3)
    for k in range(5):
        x = chainrule.full((3, 4), 0.25 * (k + 1), dtype=chainrule.float16)
        with chainrule.no_grad():
            got, want = fn(x), twin(x).sum() * 0.5
        assert got.dtype == chainrule.float16 and got._data.tobytes() == want._data.tobytes()
        n = chainrule.arange(-4, 5) * (k + 1)
        assert ints(n).tolist() == ((n * 3 + 1) // 2 - n % 3).tolist()


def test_nan_and_inf_inputs_replay_with_their_own_positions():
    fn = chainrule.compile(lambda x: chainrule.where(chainrule.isnan(x), 0.0, x).clamp(-1e30, 1e30) * 2)
    for bad in (0, 1, 2, 0):
        x = chainrule.tensor([1.0, 2.0, 3.0])
        x[bad] = float("nan")
        x[(bad + 1) % 3] = float("inf")
        expected = chainrule.where(chainrule.isnan(x), 0.0, x).clamp(-1e30, 1e30) * 2
        assert fn(x)._data.tobytes() == expected._data.tobytes()


def test_empty_and_zero_dim_inputs_replay():
    fn = chainrule.compile(lambda x: (x * 2).sum())
    for _ in range(3):
        assert fn(chainrule.zeros(0, 3)).item() == 0.0
        assert fn(chainrule.tensor(2.5)).item() == 5.0


def test_second_order_gradient_inside_a_compiled_step_matches_eager():
    def make():
        w = chainrule.tensor([1.0, -2.0, 0.5], requires_grad=True)

        def step(x):
            w.grad = None
            (g,) = chainrule.autograd.grad((w ** 3 * x).sum(), w, create_graph=True)
            (g * g).sum().backward()       # d/dw of |3 w^2 x|^2
            with chainrule.no_grad():
                w.sub_(1e-3 * w.grad)
            return w.grad.clone()
        return w, step
    _compiled_twin_agrees(make, [chainrule.tensor([0.5, 1.0, -1.5]) * (k + 1) for k in range(5)])


def test_large_products_replay_with_eagers_bits_whatever_the_thread_count():
    """A large product is cut into parts by its shape: a recording follows the parts, so
    replays equal eager code bit for bit, with one part at a time or several at once."""
    rng = np.random.default_rng(0)
    a, b, c = (chainrule.tensor(rng.standard_normal(s).astype(np.float32))
               for s in ((256, 784), (784, 256), (256, 10)))
    from chainrule import threads
    assert len(threads.plan((256, 784), (784, 256))[1]) > 2
    want = ((a @ b) @ c)._data
    try:
        for n in ("auto", 1, 2):
            chainrule.set_num_threads(n)
            fn = chainrule.compile(lambda a, b, c: (a @ b) @ c)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                got = [fn(a, b, c)._data for _ in range(4)]
            assert _replaying(fn)
            assert all(np.array_equal(g, want) for g in got)
    finally:
        chainrule.set_num_threads("auto")


def test_numpy_write_into_a_parameter_outside_the_trace_is_caught():
    w = chainrule.ones(3, requires_grad=True)

    def sneaky(x):
        out = (w * x).sum()
        np.asarray(w._data)[0] += 1.0     # a parameter changed behind the trace's back
        return out
    fn = chainrule.compile(sneaky)
    with pytest.warns(RuntimeWarning, match="did not make changed"):
        fn(chainrule.ones(3))
    fn(chainrule.ones(3))
    assert w._data[0] == 3.0   # every call, eager, did its write


def test_tensor_read_through_a_module_attribute_is_followed():
    import types
    holder = types.ModuleType("holder")
    holder.W = chainrule.tensor([1.0, 2.0])

    def scaled(x):
        return x * (holder.W * 2)
    fn = chainrule.compile(scaled)
    outs = []
    for k in range(5):
        if k == 3:
            holder.W.mul_(2)   # changed between replays, in place
        outs.append(fn(chainrule.ones(2)).tolist())
    assert outs[2] == [2.0, 4.0] and outs[-1] == [4.0, 8.0] and _replaying(fn)


def test_fit_compile_true_resumed_run_equals_an_uninterrupted_eager_run(tmp_path):
    from chainrule.train import Callback, fit
    rng = np.random.default_rng(2)
    X = rng.standard_normal((96, 6)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)

    class Interrupted(Exception):
        pass

    class StopAfter(Callback):   # an interruption (a stop request would finish the run)
        def __init__(self, epochs):
            super().__init__()
            self.epochs = epochs

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == self.epochs:
                raise Interrupted

    def run(compile, epochs_now, resume, folder):
        chainrule.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Dropout(0.2), nn.Linear(12, 2))
        history = fit(model, (X, y), loss="cross_entropy", optimizer="adam", lr=1e-2,
                      epochs=4, batch_size=16, seed=3, progress=False, compile=compile,
                      checkpoint_dir=folder, resume=resume,
                      callbacks=[StopAfter(epochs_now)] if epochs_now else [])
        return history, model

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(Interrupted):
            run(True, 2, False, tmp_path / "compiled")       # stops after 2 of 4 epochs
        resumed, model_c = run(True, None, True, tmp_path / "compiled")
        eager, model_e = run(False, None, False, tmp_path / "eager")
    assert resumed.history["loss"] == eager.history["loss"]
    _assert_same(model_c, model_e)


def test_a_hook_registered_after_replays_began_is_honoured():
    model = nn.Linear(2, 2)
    fn = chainrule.compile(lambda x: model(x))
    for _ in range(3):
        fn(chainrule.ones(1, 2))
    calls = []
    model.register_forward_hook(lambda m, i, o: calls.append(1))
    with pytest.warns(RuntimeWarning, match="hooks"):
        fn(chainrule.ones(1, 2))
    fn(chainrule.ones(1, 2))
    assert len(calls) == 2


def test_changing_the_default_dtype_records_again():
    fn = chainrule.compile(lambda x: x + chainrule.ones(2))
    for _ in range(3):
        assert fn(chainrule.ones(2, dtype=chainrule.float64)).dtype == chainrule.float64
    chainrule.set_default_dtype(chainrule.float64)
    try:
        out = fn(chainrule.ones(2, dtype=chainrule.float64))
        assert out.dtype == chainrule.float64 and len(fn._cache) == 2
    finally:
        chainrule.set_default_dtype(chainrule.float32)


def test_a_global_module_hook_keeps_the_function_eager():
    from chainrule.nn.modules.module import register_module_forward_hook
    model = nn.Linear(2, 2)
    fn = chainrule.compile(lambda x: model(x))
    calls = []
    every_module_checks = nn.Module._has_hooks
    handle = register_module_forward_hook(lambda m, i, o: calls.append(1))
    try:
        with pytest.warns(RuntimeWarning, match="global module hooks"):
            for _ in range(3):
                fn(chainrule.ones(1, 2))
    finally:
        handle.remove()
        nn.Module._has_hooks = every_module_checks  # global hooks leave it set for good
    assert len(calls) == 3


def test_a_removed_tensor_hook_does_not_keep_functions_eager():
    w = chainrule.ones(2, requires_grad=True)
    w.register_hook(lambda g: g).remove()
    fn = chainrule.compile(lambda x: (w * x).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(3):
            fn(chainrule.ones(2))
    assert _replaying(fn)


def test_a_tensor_hook_registered_inside_the_function_keeps_it_eager():
    w = chainrule.ones(2, requires_grad=True)
    seen = []

    def step(x):
        y = w * x
        y.register_hook(lambda g: seen.append(1))
        y.sum().backward()
        return w.grad
    fn = chainrule.compile(step)
    with pytest.warns(RuntimeWarning, match="tensor hook"):
        fn(chainrule.ones(2))
    fn(chainrule.ones(2))
    assert len(seen) == 2


def test_an_error_halfway_through_a_recording_leaves_nothing_traced():
    from chainrule.runtime import recording_hooks as _capture
    from chainrule.compiler.trace import Traced
    model = nn.Linear(3, 2)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        if x.shape[0] == 0:
            raise ValueError("no rows")   # after backward: grads exist, traced during the call
        opt.step()
        return loss
    fn = chainrule.compile(step)
    with pytest.raises(ValueError, match="no rows"):
        fn(chainrule.zeros(0, 3))
    assert _capture.ACTIVE[0] is None
    for p in model.parameters():
        assert type(p._data) is np.ndarray and type(p.grad._data) is not Traced
    twin = copy.deepcopy(model)
    opt2 = chainrule.optim.SGD(twin.parameters(), lr=0.1)
    for k in range(4):
        x = chainrule.full((2, 3), float(k))
        got = fn(x).item()
        opt2.zero_grad()
        want = twin(x).sum()
        want.backward()
        opt2.step()
        assert got == want.item()
    _assert_same(model, twin)


def test_values_at_the_tails_replay_with_eager_bits():
    w = chainrule.tensor([1.0, -2.0, 0.5], requires_grad=True)

    def step(x):
        w.grad = None
        y = chainrule.sigmoid(x * w) + chainrule.nn.functional.softplus(x) - x.clamp(-30, 30).exp()
        y.sum().backward()
        return y, w.grad.clone()
    fn = chainrule.compile(step)
    rows = ([30.0, -30.0, 1e30], [-1e30, float("inf"), float("nan")], [1e-45, -0.0, 88.0],
            [float("-inf"), 3e38, -3e38])
    for row in rows:
        x = chainrule.tensor(row)
        got_y, got_g = fn(x)
        want_y, want_g = step(x)
        assert got_y._data.tobytes() == want_y._data.tobytes()
        assert got_g._data.tobytes() == want_g._data.tobytes()
    assert _replaying(fn)
