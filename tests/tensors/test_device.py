"""Devices against PyTorch's CPU-only build: device objects for any type, failure only
when memory is placed on a device other than the CPU, `device=` on every factory, the
default-device context, Tensor.to / Module.to argument forms, accelerator and cuda."""
import copy
import pickle

import pytest
import torch

import chainrule as cr
from chainrule import nn

SPECS = [("cpu",), ("cpu", 0), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",), ("meta",),
         ("xla:3",), ("cuda:0",)]


def _error(fn):
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the type and text are what is compared
        return type(err), str(err)
    return None


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: ":".join(map(str, s)))
def test_device_objects_match_torch(spec):
    c, t = cr.device(*spec), torch.device(*spec)
    assert (c.type, c.index, repr(c), str(c), f"{c}") == (t.type, t.index, repr(t), str(t), f"{t}")
    assert repr(cr.device(type=t.type, index=t.index)) == repr(t)
    assert cr.device(c) == c and hash(cr.device(c)) == hash(c)


def test_device_equality_and_hashing_as_torch():
    pairs = [(("cpu",), ("cpu",)), (("cpu",), ("cpu", 0)), (("cuda:0",), ("cuda", 0)),
             (("cuda",), ("cuda:0",)), (("cuda:1",), ("cuda:2",))]
    for a, b in pairs:
        assert (cr.device(*a) == cr.device(*b)) == (torch.device(*a) == torch.device(*b))
        assert (cr.device(*a) != cr.device(*b)) == (torch.device(*a) != torch.device(*b))
    # a device never equals a string, in either order
    for s in ("cpu", "cuda:1"):
        c, t = cr.device(s), torch.device(s)
        assert (c == s, s == c, c != s) == (t == s, s == t, t != s) == (False, False, True)
    table = {cr.device("cuda", 1): "gpu1"}
    assert table[cr.device("cuda:1")] == "gpu1"
    assert len({cr.device("cpu"), cr.device("cpu"), cr.device("cpu", 0)}) == 2


def test_device_survives_copy_and_pickle_protocol():
    d = cr.device("cuda:1")
    assert copy.deepcopy(d) == d and copy.copy(d) == d
    assert pickle.loads(pickle.dumps(d)) == d


@pytest.mark.parametrize("args", [("gpu",), ("",), ("CUDA",), ("cuda:x",), ("cuda:-1",),
                                  ("cpu:0:1",), (" cpu",), ("cuda:01",), ("cuda", -1),
                                  ("cuda:1", 2), ("cpu", "0"), ("cpu", 1.5), ("cpu", True), (1,)],
                         ids=repr)
def test_bad_device_arguments_raise_torchs_error(args):
    c, t = _error(lambda: cr.device(*args)), _error(lambda: torch.device(*args))
    assert c is not None and c[0] is t[0]
    if t[0] is RuntimeError:  # PyTorch's text, word for word
        assert c[1] == t[1]
    else:
        assert "device()" in c[1] and ("index" in c[1]) == ("index" in t[1])


def test_device_of_other_type_is_a_type_error_naming_device():
    for bad in (None, 3.5, [0]):
        with pytest.raises(TypeError, match="device()"):
            cr.device(bad)
        with pytest.raises(TypeError):
            torch.device(bad)


def test_tensor_device_is_a_device_object():
    x = cr.zeros(2)
    assert isinstance(x.device, cr.device) and x.device == cr.device("cpu")
    assert repr(x.device) == repr(torch.zeros(2).device) and str(x.device) == "cpu"
    assert x.device.type == "cpu" and x.get_device() == torch.zeros(2).get_device() == -1
    assert not x.is_cuda


FACTORIES = {
    "tensor": lambda m, d: m.tensor([1.0, 2.0], device=d),
    "as_tensor": lambda m, d: m.as_tensor([1.0, 2.0], device=d),
    "zeros": lambda m, d: m.zeros(2, 3, device=d),
    "ones": lambda m, d: m.ones((2,), device=d),
    "empty": lambda m, d: m.empty(2, device=d),
    "full": lambda m, d: m.full((2,), 7.0, device=d),
    "arange": lambda m, d: m.arange(4, device=d),
    "linspace": lambda m, d: m.linspace(0, 1, 5, device=d),
    "logspace": lambda m, d: m.logspace(0, 1, 5, device=d),
    "eye": lambda m, d: m.eye(3, device=d),
    "rand": lambda m, d: m.rand(2, device=d),
    "randn": lambda m, d: m.randn(2, device=d),
    "randint": lambda m, d: m.randint(0, 5, (2,), device=d),
    "randperm": lambda m, d: m.randperm(4, device=d),
    "normal": lambda m, d: m.normal(0.0, 1.0, size=(2,), device=d),
    "zeros_like": lambda m, d: m.zeros_like(m.ones(2), device=d),
    "ones_like": lambda m, d: m.ones_like(m.ones(2), device=d),
    "empty_like": lambda m, d: m.empty_like(m.ones(2), device=d),
    "full_like": lambda m, d: m.full_like(m.ones(2), 3.0, device=d),
    "rand_like": lambda m, d: m.rand_like(m.ones(2), device=d),
    "randn_like": lambda m, d: m.randn_like(m.ones(2), device=d),
    "randint_like": lambda m, d: m.randint_like(m.ones(2), 5, device=d),
    "new_zeros": lambda m, d: m.ones(2).new_zeros(3, device=d),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_accepts_cpu_device_and_fails_on_cuda_like_torch(name):
    make = FACTORIES[name]
    for dev in ("cpu", "cpu:0", None):
        out = make(cr, dev if dev is None else cr.device(dev))
        assert out.device == cr.device("cpu") and tuple(out.shape) == tuple(make(torch, dev).shape)
        assert make(cr, dev).device.type == "cpu"
    torch_err = _error(lambda: make(torch, "cuda"))
    with pytest.raises(torch_err[0], match="not compiled with CUDA enabled"):
        make(cr, "cuda")
    with pytest.raises(AssertionError, match=name.replace("new_", "")):  # names the factory
        make(cr, cr.device("cuda", 1))


def test_bad_device_string_on_a_factory_raises_torchs_error():
    assert _error(lambda: cr.zeros(2, device="gpu")) == _error(lambda: torch.zeros(2, device="gpu"))


def test_mps_and_meta_devices_fail_naming_the_device():
    with pytest.raises(RuntimeError, match="mps"):
        cr.zeros(2, device="mps")
    with pytest.raises(RuntimeError, match="mps"):
        cr.ones(2).to("mps")
    with pytest.raises(NotImplementedError, match="meta"):
        cr.zeros(2, device="meta")


def test_tensor_cuda_and_to_cuda_fail_as_torch_cpu_build():
    for fn in (lambda m: m.ones(2).cuda(), lambda m: m.ones(2).to("cuda:1"),
               lambda m: m.ones(2).to(m.device("cuda"), m.float64),
               lambda m: m.ones(2).to(device="cuda")):
        assert _error(lambda: fn(cr))[0] is _error(lambda: fn(torch))[0] is AssertionError
        assert "not compiled with CUDA enabled" in _error(lambda: fn(cr))[1]


TO_FORMS = {
    "device str": lambda m, x: x.to("cpu"),
    "device obj": lambda m, x: x.to(m.device("cpu")),
    "device kw": lambda m, x: x.to(device="cpu"),
    "dtype": lambda m, x: x.to(m.float64),
    "device, dtype": lambda m, x: x.to("cpu", m.int32),
    "device obj, dtype kw": lambda m, x: x.to(m.device("cpu"), dtype=m.float16),
    "kw both non_blocking": lambda m, x: x.to(device="cpu", dtype=m.int64, non_blocking=True),
    "dtype non_blocking positional": lambda m, x: x.to(m.float64, True),
    "other tensor": lambda m, x: x.to(m.ones(2, dtype=m.int32)),
    "copy": lambda m, x: x.to("cpu", copy=True),
    "python float type": lambda m, x: x.to(float),
}


@pytest.mark.parametrize("form", sorted(TO_FORMS))
def test_tensor_to_argument_forms_match_torch(form):
    xc, xt = cr.tensor([1.5, -2.25, 3.0]), torch.tensor([1.5, -2.25, 3.0])
    yc, yt = TO_FORMS[form](cr, xc), TO_FORMS[form](torch, xt)
    assert str(yc.dtype).split(".")[1] == str(yt.dtype).split(".")[1]
    assert yc.tolist() == yt.tolist() and yc.device == cr.device("cpu")
    assert (yc is xc) == (yt is xt)


def test_tensor_to_bad_arguments_raise():
    x = cr.ones(2)
    assert _error(lambda: x.to("gpu"))[1] == _error(lambda: torch.ones(2).to("gpu"))[1]
    assert _error(lambda: x.to(5))[1] == _error(lambda: torch.ones(2).to(5))[1]
    with pytest.raises(TypeError, match="to()"):
        x.to("cpu", "cpu")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        x.to(colour="red")


def test_to_device_keeps_the_graph_and_gradient():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w.to("cpu", cr.float64) * 3).sum().backward()
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    (wt.to("cpu", torch.float64) * 3).sum().backward()
    assert w.grad.tolist() == wt.grad.tolist() and w.grad.dtype == cr.float32


def test_module_to_device_and_dtype_like_torch():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    ids = [id(p) for p in net.parameters()]
    assert net.to("cpu") is net and net.to(cr.device("cpu")) is net
    assert net.to("cpu", cr.float64) is net and [id(p) for p in net.parameters()] == ids
    assert all(p.dtype == cr.float64 and p.device.type == "cpu" for p in net.parameters())
    net.to(device=cr.device("cpu"), dtype=cr.float32, non_blocking=True)
    assert all(p.dtype == cr.float32 for p in net.parameters())
    tnet = torch.nn.Linear(3, 2)
    for fn in (lambda m, n: n.to("cuda"), lambda m, n: n.cuda(),
               lambda m, n: n.to("cuda:0", m.float64)):
        c, t = _error(lambda: fn(cr, net)), _error(lambda: fn(torch, tnet))
        assert c[0] is t[0] is AssertionError
    with pytest.raises(TypeError, match="floating point"):
        net.to("cpu", cr.int64)


def test_linear_with_device_argument():
    assert nn.Linear(2, 3, device="cpu").weight.device == cr.device("cpu")
    assert nn.Linear(2, 3, device=cr.device("cpu")).weight.device.type == "cpu"


def test_with_device_sets_the_default_for_factories_and_restores_it():
    assert repr(cr.get_default_device()) == repr(torch.get_default_device()) == "device(type='cpu')"
    x = cr.ones(2)
    with cr.device("cpu") as d:
        assert d == cr.device("cpu") and cr.zeros(2).device.type == "cpu"
    with cr.device("cuda"):
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            cr.zeros(2)
        with pytest.raises(AssertionError):
            cr.tensor([1.0])
        with cr.device("cpu"):  # nested blocks restore the outer default on exit
            assert cr.ones(1).device.type == "cpu"
        with pytest.raises(AssertionError):
            cr.randn(2)
        # *_like follows its input's device (the CPU), not the default, as in PyTorch
        assert cr.zeros_like(x).device.type == "cpu"
        with pytest.raises(AssertionError):  # ... and PyTorch resolves the index by allocating
            cr.get_default_device()
        # ops on existing tensors do not place new memory through a factory
        assert (x + 1).tolist() == [2.0, 2.0]
    assert cr.zeros(2).device.type == "cpu" and cr.get_default_device() == cr.device("cpu")


def test_set_default_device_as_torch():
    try:
        cr.set_default_device("cuda:1")
        torch.set_default_device("cuda:1")
        assert repr(cr.get_default_device()) == repr(torch.get_default_device())
        assert _error(lambda: cr.zeros(1))[0] is _error(lambda: torch.zeros(1))[0]
        cr.set_default_device(cr.device("cpu"))
        assert cr.zeros(1).device.type == "cpu"
        cr.set_default_device("cuda")
        cr.set_default_device(None)
        torch.set_default_device(None)
        assert repr(cr.get_default_device()) == repr(torch.get_default_device())
        assert _error(lambda: cr.set_default_device("gpu"))[1] == \
            _error(lambda: torch.set_default_device("gpu"))[1]
    finally:
        cr.set_default_device(None)
        torch.set_default_device(None)
    assert cr.zeros(1).device.type == "cpu"


def test_accelerator_and_cuda_answer_like_torch_without_a_gpu():
    assert cr.accelerator.is_available() is torch.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert cr.accelerator.device_count() == torch.accelerator.device_count() == 0
    assert cr.cuda.is_available() is torch.cuda.is_available() is False
    assert cr.cuda.device_count() == torch.cuda.device_count() == 0
    assert cr.cuda.is_initialized() is torch.cuda.is_initialized() is False
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(cr.cuda, name)(0) is getattr(torch.cuda, name)(0) is None
    for name in ("current_device", "synchronize"):
        c, t = _error(getattr(cr.cuda, name)), _error(getattr(torch.cuda, name))
        assert c[0] is t[0] is AssertionError and "CUDA" in c[1]
    c = _error(cr.accelerator.current_device_index)
    t = _error(torch.accelerator.current_device_index)
    assert c == t


def test_the_usual_device_selection_idiom_picks_the_cpu():
    for m in (cr, torch):
        dev = (m.accelerator.current_accelerator().type if m.accelerator.is_available()
               else "cpu")
        assert m.ones(2, device=dev).device == m.device("cpu")
        dev = m.device("cuda" if m.cuda.is_available() else "cpu")
        assert m.nn.Linear(2, 1).to(dev)(m.ones(1, 2, device=dev)).shape == (1, 1)


def test_layers_and_legacy_constructor_take_device_like_torch():
    for m in (cr, torch):
        assert m.nn.Linear(2, 3, device="cpu").weight.device.type == "cpu"
        assert m.Tensor(2, 3, device="cpu").shape == (2, 3)
        for fn in (lambda: m.nn.Linear(2, 3, device="cuda"),
                   lambda: m.nn.Linear(2, 3, device=m.device("cuda", 1))):
            with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
                fn()
        with m.device("cuda"):  # parameters go to the default device, as in PyTorch
            with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
                m.nn.Linear(2, 3)
    with pytest.raises(AssertionError, match="LazyLinear"):
        nn.LazyLinear(3, device="cuda")


def test_new_factories_follow_self_not_the_default_device():
    for m in (cr, torch):
        x = m.ones(2, dtype=m.float64)
        with m.device("cuda"):
            made = [x.new_zeros(3), x.new_ones(1), x.new_empty(2), x.new_full((2,), 7.0),
                    x.new_tensor([1.0, 2.0])]
        assert all(t.device.type == "cpu" and str(t.dtype).endswith("float64") for t in made)
        assert x.new_full((2,), 1.0, device="cpu").tolist() == [1.0, 1.0]
        assert x.new_tensor([3], device=m.device("cpu"), dtype=m.int64).tolist() == [3]
        for fn in (lambda: x.new_zeros(2, device="cuda"),
                   lambda: x.new_tensor([1.0], device="cuda"),
                   lambda: x.new_full((1,), 0.0, device="cuda")):
            with pytest.raises(AssertionError):
                fn()


def test_load_with_map_location_as_torch_cpu_build(tmp_path):
    path = tmp_path / "w.pt"
    cr.save({"w": cr.ones(2)}, path)
    tpath = tmp_path / "t.pt"
    torch.save({"w": torch.ones(2)}, tpath)
    for where in ("cpu", cr.device("cpu"), None, {"cuda:0": "cpu"}, lambda s, loc: s):
        assert cr.load(path, map_location=where)["w"].device.type == "cpu"
    for where in ("cuda", "cuda:1"):
        t = _error(lambda: torch.load(tpath, map_location=where))
        c = _error(lambda: cr.load(path, map_location=where))
        assert c[0] is t[0] is RuntimeError
        assert c[1] == t[1].replace("torch.", "chainrule.")
    with pytest.raises(RuntimeError, match="mps"):
        cr.load(path, map_location="mps")
    assert _error(lambda: cr.load(path, map_location="gpu"))[0] is RuntimeError


@pytest.mark.parametrize("args", [(), (0,), (1,), ("cuda:1",), ("cuda",)], ids=repr)
def test_cuda_method_forms_fail_with_torchs_error_type(args):
    for make in (lambda m: m.ones(2), lambda m: m.nn.Linear(1, 1)):
        c = _error(lambda: make(cr).cuda(*args))
        t = _error(lambda: make(torch).cuda(*args))
        assert c[0] is t[0]
        if c[0] is RuntimeError:
            assert c[1] == t[1]
        else:
            assert "not compiled with CUDA enabled" in c[1]
    with pytest.raises(AssertionError):
        cr.ones(2).cuda(cr.device("cuda", 1), non_blocking=True)
    with pytest.raises(RuntimeError, match="must be cuda device"):
        cr.ones(2).cuda("cpu")
