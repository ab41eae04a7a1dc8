"""Compiled against eager while Python state changes between calls: a training (or
inference) step that reads Python values of every kind a recording depends on — a loss
scale in a closure list, a clip value in a dict, a branch on a step counter, a seed set
inside the step, Dropout's p, a temperature and a flag on the user's module, a swapped
activation, label smoothing, an optimizer's lr read by the step, values taken out of
tensors (`item`, `tolist`, `bool`) — with SGD or Adam, is run compiled and eagerly on twin
models, with the same mutations between calls (the Python values, and a parameter's data,
an optimizer's state entry or its whole state replaced). Every returned value and every weight must be the same
bits. Running eagerly (with its warning) is allowed; it is counted."""
import warnings

import numpy as np

from fuzz_check import Mismatch

FEATURES = ("scale", "clip", "branch", "seed", "lr_read", "item_float", "item_int",
            "item_bool", "tolist_python", "tolist_out", "item_out", "item_kept", "adam")
MUTATIONS = ("scale", "clip", "step", "seed", "dropout_p", "temperature", "flag",
             "activation", "label_smoothing", "lr", "param_data", "opt_state", "load_state",
             "none")
COUNTER = {"programs": 0, "replayed": 0, "eager": 0, "branch_changed": 0, "kept_steps": 0}
STOPS = []  # (features, train, the BranchChanged message)
EAGER = {}  # why compiled functions ran eagerly -> how many


def _env(chainrule, train, features=()):
    from chainrule import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(6, 3)
            self.temperature = 1.0
            self.flag = False

        def forward(self, h):
            out = self.lin(h) / self.temperature
            return out.tanh() * 3 if self.flag else out

    chainrule.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.25), Head())
    if not train:
        net.eval()
    opt = (chainrule.optim.Adam(net.parameters(), lr=0.01) if "adam" in features
           else chainrule.optim.SGD(net.parameters(), lr=0.05))
    return {"net": net, "opt": opt,
            "loss_fn": nn.CrossEntropyLoss(), "scale": [1.0],
            "cfg": {"clip": 2.0}, "state": {"step": 0, "seed": 3}}


def _step_function(chainrule, env, features, train):
    net, opt, loss_fn = env["net"], env["opt"], env["loss_fn"]
    scale, cfg, state = env["scale"], env["cfg"], env["state"]

    def step(x, y):
        if "seed" in features:
            chainrule.manual_seed(state["seed"])
        out = net(x)
        if "branch" in features and state["step"] > 2:
            out = out * 2
        if "scale" in features:
            out = out * scale[0]
        if "clip" in features:
            out = out.clamp(-cfg["clip"], cfg["clip"])
        if "lr_read" in features:
            out = out * (opt.param_groups[0]["lr"] * 20)
        if "item_float" in features:
            out = out * x[0, 0].abs().item()
        if "item_int" in features:
            out = out * (x[:, 0] > 0).sum().item()
        if "item_bool" in features and (x[:, 1].sum() > 0).item():
            out = out - 1
        if "tolist_python" in features:
            out = out * float(sum((x[:, 2] > 0).tolist()))
        loss = loss_fn(out, y)
        if train:
            opt.zero_grad()
            loss.backward()
            opt.step()
        if "tolist_out" in features and "item_out" in features:
            return loss, out.argmax(1).tolist(), loss.item()
        if "tolist_out" in features:
            return loss, out.argmax(1).tolist()
        if "item_out" in features:
            return loss, loss.item()
        if "item_kept" in features:  # kept in a list: Python state the call changes
            state["losses"] = state.get("losses", ()) + (loss.item(),)
        return (loss,)
    return step


def _mutate(chainrule, env, kind, value):
    from chainrule import nn
    if kind == "scale":
        env["scale"][0] = (0.5, 1.0, -2.0)[value % 3]
    elif kind == "clip":
        env["cfg"]["clip"] = (0.5, 2.0, 1e3)[value % 3]
    elif kind == "step":
        env["state"]["step"] += 1
    elif kind == "seed":
        env["state"]["seed"] = value % 3
    elif kind == "dropout_p":
        env["net"][2].p = (0.0, 0.25, 0.6)[value % 3]
    elif kind == "temperature":
        env["net"][3].temperature = (0.5, 1.0, 4.0)[value % 3]
    elif kind == "flag":
        env["net"][3].flag = bool(value % 2)
    elif kind == "activation":
        env["net"][1] = (nn.ReLU, nn.Tanh, nn.Sigmoid)[value % 3]()
    elif kind == "label_smoothing":
        env["loss_fn"].label_smoothing = (0.0, 0.1, 0.3)[value % 3]
    elif kind == "lr":
        env["opt"].param_groups[0]["lr"] = (0.05, 0.01, 0.2)[value % 3]
    elif kind == "param_data":
        weight = env["net"][0].weight
        weight.data = chainrule.tensor(weight._data * (0.5, 1.0, -2.0)[value % 3])
    elif kind == "opt_state":  # an entry replaced (Adam's moments; SGD keeps none here)
        state = env["opt"].state.get(env["net"][0].weight) or {}
        key = ("exp_avg", "exp_avg_sq")[value % 2]
        if key in state:
            state[key] = chainrule.tensor(state[key]._data * 0.5)
    elif kind == "load_state":
        env["opt"].load_state_dict(env["opt"].state_dict())


def _inputs(chainrule, which):
    rng = np.random.default_rng(1000 + which)
    return (chainrule.tensor(rng.standard_normal((5, 4)).astype(np.float32)),
            chainrule.tensor(rng.integers(0, 3, 5)))


def _same(got, want, what):
    if type(got) is not type(want):
        raise Mismatch(f"{what}: compiled gave {type(got).__name__}, eager "
                       f"{type(want).__name__}")
    if hasattr(want, "_data"):
        if got.dtype != want.dtype or got._data.tobytes() != want._data.tobytes():
            raise Mismatch(f"{what}: compiled {got} != eager {want}")
    elif got != want:
        raise Mismatch(f"{what}: compiled {got!r} != eager {want!r}")


def _counted_kept_steps():
    """Count the steps Adam's kept step takes (optim/fused_step.py), once installed."""
    from chainrule.optim import fused_step
    step = fused_step.FusedStep.__call__
    if getattr(step, "counted", False):
        return

    def counted(self, opt):
        done = step(self, opt)
        COUNTER["kept_steps"] += done
        return done
    counted.counted = True
    fused_step.FusedStep.__call__ = counted


def check_program(features, train, calls, mode=None):
    """`calls`: [(mutation kind, value, input index)]. Raise Mismatch when a compiled
    call (compile's `mode`) differs from eager's."""
    import chainrule
    from chainrule.compiler.compiled import BranchChanged
    COUNTER["programs"] += 1
    _counted_kept_steps()
    envs = [_env(chainrule, train, features), _env(chainrule, train, features)]
    compiled = chainrule.compile(_step_function(chainrule, envs[0], features, train),
                                 mode=mode)
    eager = _step_function(chainrule, envs[1], features, train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for n, (kind, value, which) in enumerate(calls):
            for env in envs:
                _mutate(chainrule, env, kind, value)
            x, y = _inputs(chainrule, which)
            chainrule.manual_seed(50 + n)
            try:
                got = compiled(x, y)
            except BranchChanged as err:
                COUNTER["branch_changed"] += 1
                STOPS.append((features, train, str(err)))
                return  # raised, never replayed wrong; the twins differ from here
            after = chainrule.rand(1)
            chainrule.manual_seed(50 + n)
            want = eager(x, y)
            where = f"call {n} after {kind}={value} (features {features}, train={train})"
            for k, (g, w) in enumerate(zip(got, want)):
                _same(g, w, f"{where}: returned value {k}")
            _same(after, chainrule.rand(1), f"{where}: the generator after the call")
            for (name, p), q in zip(envs[0]["net"].named_parameters(),
                                    envs[1]["net"].parameters()):
                if p._data.tobytes() != q._data.tobytes():
                    raise Mismatch(f"{where}: parameter {name} differs")
    COUNTER["eager" if compiled._eager else "replayed"] += 1
    if compiled._eager:
        why = compiled._eager.split(" (")[0]
        EAGER[why] = EAGER.get(why, 0) + 1
