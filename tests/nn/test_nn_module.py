"""Module machinery: registration, names, state_dict, modes, dtype, repr, lazy layers."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from helpers import assert_close, magnitude

torch = pytest.importorskip("torch")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(8, 5), lib.nn.ReLU(),
                             lib.nn.Dropout(0.1), lib.nn.Linear(5, 3))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 6)
        self.out = nn.Linear(6, 2)
        self.scale = nn.Parameter(cr.ones(2))
        self.register_buffer("steps", cr.zeros(1))

    def forward(self, x):
        return self.out(self.hidden(x).relu()) * self.scale


class TBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 6)
        self.out = torch.nn.Linear(6, 2)
        self.scale = torch.nn.Parameter(torch.ones(2))
        self.register_buffer("steps", torch.zeros(1))


def test_parameter_is_a_tensor_with_torch_repr():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert isinstance(p, cr.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert not isinstance(p.detach(), nn.Parameter)
    assert not isinstance(cr.tensor([1.0]), nn.Parameter)
    q = nn.Parameter(cr.zeros(2), requires_grad=False)
    assert not q.requires_grad and isinstance(q, nn.Parameter)


def test_parameter_works_in_every_op_path():
    p = nn.Parameter(cr.tensor([[1.0, -2.0], [3.0, 4.0]]))
    x = cr.tensor([[0.5, 1.5]])
    y = (p * 2 + x).sum() + nn.functional.linear(x, p).sum() + (x @ p).relu().sum()
    y.backward()
    tp = torch.nn.Parameter(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    tx = torch.tensor([[0.5, 1.5]])
    ((tp * 2 + tx).sum() + torch.nn.functional.linear(tx, tp).sum() + (tx @ tp).relu().sum()).backward()
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy())


def test_state_dict_names_match_torch():
    assert list(_mlp(cr).state_dict()) == list(_mlp(torch).state_dict())
    assert list(Block().state_dict()) == list(TBlock().state_dict())
    assert [n for n, _ in Block().named_parameters()] == [n for n, _ in TBlock().named_parameters()]
    outer = nn.Sequential(Block(), nn.Sequential(nn.Linear(2, 2)))
    touter = torch.nn.Sequential(TBlock(), torch.nn.Sequential(torch.nn.Linear(2, 2)))
    assert list(outer.state_dict()) == list(touter.state_dict())
    assert [n for n, _ in outer.named_modules()] == [n for n, _ in touter.named_modules()]


def test_shared_parameter_listed_once():
    shared = nn.Linear(3, 3)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias"]
    assert len(list(net.parameters())) == 2
    assert len(list(net.modules())) == 3  # net, shared, relu
    net(cr.randn(2, 3)).sum().backward()
    assert shared.weight.grad is not None


def test_children_modules_apply_and_getattr():
    b = Block()
    assert [n for n, _ in b.named_children()] == ["hidden", "out"]
    assert list(b.children()) == [b.hidden, b.out]
    seen = []
    b.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Block"]
    assert b.steps.shape == (1,)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        b.nope
    b.hidden = None
    assert "hidden" not in [n for n, _ in b.named_children()]


def test_register_parameter_and_buffer_checks():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(cr.ones(2)))
    m.register_buffer("b", cr.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["w"]
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("v", cr.ones(2))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", cr.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = cr.ones(2)


def test_module_without_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_state_dict_roundtrip_and_load_errors_leave_model_unchanged():
    a, b = _mlp(cr), _mlp(cr)
    b.load_state_dict(a.state_dict())
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    before = {k: v.numpy().copy() for k, v in b.state_dict().items()}
    sd = a.state_dict()
    sd["4.weight"] = cr.zeros(4, 5)
    del sd["1.bias"]
    sd["extra"] = cr.zeros(1)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for 4.weight" in msg and "(4, 5)" in msg and "(3, 5)" in msg
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    del sd["4.weight"], sd["extra"]
    sd["1.bias"] = a.state_dict()["1.bias"]
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["4.weight"] and res.unexpected_keys == []


def test_state_dict_loads_into_torch_and_back():
    m = _mlp(cr)
    t = _mlp(torch)
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 4)).astype(np.float32)
    m.eval(), t.eval()
    assert_close(m(cr.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(),
                 rtol=1e-5, atol=1e-6, scale=magnitude(x))
    m2 = _mlp(cr)
    m2.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})
    m2.eval()
    np.testing.assert_allclose(m2(cr.tensor(x)).detach().numpy(), m(cr.tensor(x)).detach().numpy())


def test_train_eval_and_zero_grad():
    net = _mlp(cr)
    assert net.training and net[3].training
    net.eval()
    assert not net.training and not net[3].training
    net.train()
    assert net[3].training
    net(cr.randn(2, 8)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_double_keeps_parameter_objects():
    net = _mlp(cr)
    ids = [id(p) for p in net.parameters()]
    net.double()
    assert [id(p) for p in net.parameters()] == ids
    assert all(p.dtype == cr.float64 for p in net.parameters())
    assert net(cr.randn(2, 8, dtype=cr.float64)).dtype == cr.float64
    net.to(cr.float32)
    assert all(p.dtype == cr.float32 for p in net.parameters())
    assert net.cpu() is net
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        net.cuda()  # as PyTorch's CPU-only build fails


def test_repr_matches_torch():
    assert repr(_mlp(cr)) == repr(_mlp(torch))
    for c, t in [(nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.GELU(), torch.nn.GELU()),
                 (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)), (nn.Identity(), torch.nn.Identity()),
                 (nn.Linear(2, 3, bias=False), torch.nn.Linear(2, 3, bias=False)),
                 (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss())]:
        assert repr(c) == repr(t)


def test_sequential_indexing_slicing_append():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(net) == 3 and isinstance(net[-1], nn.Linear)
    head = net[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is net[0]
    assert head(cr.randn(4, 2)).shape == (4, 3)
    net.append(nn.Sigmoid())
    assert [n for n, _ in net.named_children()] == ["0", "1", "2", "3"]
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    net.add_module("extra", nn.Identity())
    assert net(cr.randn(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="out of range"):
        net[7]
    del net[1]
    assert [n for n, _ in net.named_children()] == ["0", "1", "2", "3"]


def test_modulelist_and_moduledict_register():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 4)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["a"](x), self.heads["b"](x)
    net = Net()
    assert len(list(net.parameters())) == 10
    assert "layers.2.bias" in net.state_dict() and "heads.b.weight" in net.state_dict()
    a, b = net(cr.randn(3, 2))
    assert a.shape == (3, 1) and b.shape == (3, 4)
    net.layers.append(nn.Linear(2, 2))
    assert len(net.layers) == 4 and len(net.layers[1:]) == 3
    assert list(net.heads.keys()) == ["a", "b"] and "a" in net.heads


def _sgd(params, lr):
    with cr.no_grad():
        for p in params:
            p -= lr * p.grad


def test_lazy_linear_trains_with_optimizer_built_first():
    cr.manual_seed(0)
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    params = list(net.parameters())  # what an optimizer would hold before the first call
    assert all(isinstance(p, nn.UninitializedParameter) for p in params)
    x = cr.randn(64, 5)
    y = x.sum(1, keepdim=True)
    losses = []
    for _ in range(60):
        for p in params:
            p.grad = None
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        _sgd(params, 0.05)
        losses.append(loss.item())
    assert net[0].weight.shape == (8, 5) and net[2].weight.shape == (1, 8)
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert not isinstance(params[0], nn.UninitializedParameter)
    assert losses[-1] < 0.2 * losses[0]
    assert repr(net[0]) == "Linear(in_features=5, out_features=8, bias=True)"
    b = 1 / np.sqrt(5)
    # parameters were initialised like Linear's (bound 1/sqrt(in_features)) before training
    cr.manual_seed(1)
    fresh = nn.LazyLinear(8)
    fresh(cr.randn(2, 5))
    assert np.abs(fresh.weight.detach().numpy()).max() <= b
    assert np.abs(fresh.weight.detach().numpy()).max() > 0.5 * b


def test_deepcopy_and_pickle_keep_parameters():
    import copy
    import pickle
    net = _mlp(cr)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        ps = list(clone.parameters())
        assert len(ps) == 4 and all(isinstance(p, nn.Parameter) for p in ps)
        assert all(p is not q for p, q in zip(ps, net.parameters()))
        np.testing.assert_array_equal(ps[0].detach().numpy(), net[1].weight.detach().numpy())
        clone[1].weight = nn.Parameter(cr.zeros(5, 8))  # reassigning a parameter still works
        clone(cr.randn(2, 8)).sum().backward()
        assert clone[4].weight.grad is not None and net[4].weight.grad is None


def test_d2l_style_init_through_data():
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    assert not net[0].bias.detach().numpy().any()
    assert 0 < np.abs(net[0].weight.detach().numpy()).max() < 0.1
    net[0].weight.data = cr.ones(1, 2)
    assert net(cr.ones(3, 2)).detach().numpy().tolist() == [[2.0]] * 3
