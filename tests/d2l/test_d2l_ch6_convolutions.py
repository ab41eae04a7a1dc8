"""d2l chapter 6.2-6.5 (cross-correlation, edge detection, learning a kernel, padding and
stride, multiple channels, 1x1 convolution, pooling from scratch) run with `torch` bound
to chainrule and to PyTorch, and `d2l.corr2d` against PyTorch's conv2d."""
import numpy as np
import pytest

import chainrule
from chainrule import d2l

from d2l_chapter_code import namespace, run
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch


class _TorchD2l:
    """What PyTorch's d2l module offers these sections: the book's own corr2d."""

    def __init__(self):
        ns = namespace(torch, None)
        run(CORR2D_LOOP, ns)
        self.corr2d = ns["corr2d"]


# 6.2: d2l's definition, one output pixel at a time
CORR2D_LOOP = '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''


def _both(source, **extra):
    """The namespaces after running `source` with chainrule and with PyTorch."""
    out = []
    for lib, helpers in ((chainrule, d2l), (torch, _TorchD2l())):
        ns = namespace(lib, helpers, **extra)
        ns["printed"] = run(source, ns)
        out.append(ns)
    return out


def _np(t):
    return t.detach().numpy()


def test_corr2d_of_the_chapter_example_matches_the_books_loop_and_conv2d():
    X = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
    ours = d2l.corr2d(chainrule.tensor(X), chainrule.tensor(K))
    assert ours.tolist() == [[19.0, 25.0], [37.0, 43.0]] and ours.dtype == chainrule.float32
    book = _TorchD2l().corr2d(torch.tensor(X), torch.tensor(K))
    conv = torch.nn.functional.conv2d(torch.tensor(X)[None, None], torch.tensor(K)[None, None])
    assert ours.tolist() == book.tolist() == conv[0, 0].tolist()


@pytest.mark.parametrize("x_shape,k_shape", [((6, 8), (1, 2)), ((7, 5), (3, 3)), ((4, 4), (4, 1))])
def test_corr2d_forward_and_gradients_match_torch_conv2d(x_shape, k_shape):
    rng = np.random.default_rng(0)
    X, K = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    cx, ck = (chainrule.tensor(a, requires_grad=True) for a in (X, K))
    tx, tk = (torch.tensor(a, requires_grad=True) for a in (X, K))
    ours = d2l.corr2d(cx, ck)
    theirs = torch.nn.functional.conv2d(tx[None, None], tk[None, None])[0, 0]
    assert ours.dtype == chainrule.float32  # d2l fills a zeros() of the default dtype
    assert_close(_np(ours), _np(theirs).astype(np.float32), rtol=2e-6, atol=2e-6)
    g = rng.standard_normal(tuple(ours.shape))
    ours.backward(chainrule.tensor(g.astype(np.float32)))
    theirs.backward(torch.tensor(g))
    assert_close(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(ck.grad.numpy(), tk.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_corr2d_takes_integer_inputs_into_the_default_dtype():
    X = chainrule.arange(12).reshape(3, 4)
    Y = d2l.corr2d(X, chainrule.tensor([[1, -1]]))
    assert Y.dtype == chainrule.float32 and Y.tolist() == [[-1.0] * 3] * 3


def test_corr2d_refuses_a_kernel_larger_than_the_input_naming_both_shapes():
    with pytest.raises(RuntimeError, match=r"corr2d: kernel K of shape \(3, 1\) is larger "
                                           r"than the input X of shape \(2, 5\)"):
        d2l.corr2d(chainrule.ones(2, 5), chainrule.ones(3, 1))


@pytest.mark.parametrize("x_shape,k_shape,bad", [((1, 3, 3), (2, 2), "X"), ((3, 3), (2,), "K")])
def test_corr2d_refuses_inputs_that_are_not_matrices(x_shape, k_shape, bad):
    with pytest.raises(ValueError, match=f"corr2d: {bad} must be a matrix"):
        d2l.corr2d(chainrule.ones(*x_shape), chainrule.ones(*k_shape))
    with pytest.raises(TypeError, match="corr2d: K must be a tensor, got list"):
        d2l.corr2d(chainrule.ones(3, 3), [[1.0]])


def test_corr2d_with_an_empty_kernel_is_zeros_as_the_books_loop():
    Y = d2l.corr2d(chainrule.ones(2, 3), chainrule.ones(0, 2))
    assert Y.shape == (3, 2) and not Y.any()


# 6.2: a convolutional layer built on corr2d, edges of a black-and-white image
CONV2D_SCRATCH = '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return d2l.corr2d(x, self.weight) + self.bias

X = torch.ones((6, 8))
X[:, 2:6] = 0
K = torch.tensor([[1.0, -1.0]])
Y = d2l.corr2d(X, K)
Y_t = d2l.corr2d(X.t(), K)
layer = Conv2D((1, 2))
'''


def test_edge_detection_and_the_scratch_conv_layer_match_torch():
    ours, theirs = _both(CONV2D_SCRATCH)
    assert _np(ours["Y"]).tolist() == _np(theirs["Y"]).tolist()
    assert _np(ours["Y"])[0].tolist() == [0, 1, 0, 0, 0, -1, 0]  # the two vertical edges
    assert not _np(ours["Y_t"]).any()  # a horizontal kernel sees no edge in the transpose
    with chainrule.no_grad():
        ours["layer"].weight.copy_(chainrule.tensor(_np(theirs["layer"].weight)))
    X = np.random.default_rng(1).standard_normal((5, 7)).astype(np.float32)
    out_c = ours["layer"](chainrule.tensor(X))
    out_t = theirs["layer"](torch.tensor(X))
    assert_close(_np(out_c), _np(out_t), rtol=1e-6, atol=1e-6)
    (out_c ** 2).sum().backward()
    (out_t ** 2).sum().backward()
    for name in ("weight", "bias"):
        assert_close(getattr(ours["layer"], name).grad.numpy(),
                     getattr(theirs["layer"], name).grad.numpy(), rtol=1e-5, atol=1e-6)


# 6.2: learning the edge kernel from X and Y with a 1x2 nn.Conv2d and plain gradient steps
LEARN_KERNEL_SETUP = '''
conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
X = torch.ones((6, 8))
X[:, 2:6] = 0
Y = d2l.corr2d(X, torch.tensor([[1.0, -1.0]]))
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2
'''
LEARN_KERNEL_LOOP = '''
for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {l.sum():.3f}')
learned = conv2d.weight.data.reshape((1, 2))
'''


def test_learning_the_edge_kernel_converges_to_one_minus_one_as_in_torch():
    ours, theirs = _both(LEARN_KERNEL_SETUP)
    with chainrule.no_grad():  # one starting kernel for both
        ours["conv2d"].weight.copy_(chainrule.tensor(_np(theirs["conv2d"].weight)))
    printed = [run(LEARN_KERNEL_LOOP, ns) for ns in (ours, theirs)]
    assert printed[0].count("epoch") == 5
    losses = [[float(line.rsplit(" ", 1)[1]) for line in p.splitlines()] for p in printed]
    np.testing.assert_allclose(losses[0], losses[1], rtol=2e-3, atol=2e-3)  # printed to .3f
    learned = _np(ours["learned"])
    assert_close(learned, _np(theirs["learned"]), rtol=1e-4, atol=1e-5)
    assert learned.shape == (1, 2) and np.abs(learned - [[1.0, -1.0]]).max() < 0.2


# 6.3: output shapes under padding and stride
PADDING_STRIDE = '''
def comp_conv2d(conv2d, X):
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])

X = torch.rand(size=(8, 8))
layers = [nn.Conv2d(1, 1, kernel_size=3, padding=1),
          nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1)),
          nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2),
          nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))]
shapes = [comp_conv2d(layer, X).shape for layer in layers]
'''


def test_padding_and_stride_shapes_and_outputs_match_torch():
    ours, theirs = _both(PADDING_STRIDE)
    assert [tuple(s) for s in ours["shapes"]] == [tuple(s) for s in theirs["shapes"]] == \
        [(8, 8), (8, 8), (4, 4), (2, 2)]
    X = np.random.default_rng(2).random((8, 8)).astype(np.float32)
    for layer_c, layer_t in zip(ours["layers"], theirs["layers"]):
        with chainrule.no_grad():
            layer_c.weight.copy_(chainrule.tensor(_np(layer_t.weight)))
            layer_c.bias.copy_(chainrule.tensor(_np(layer_t.bias)))
        assert_close(_np(ours["comp_conv2d"](layer_c, chainrule.tensor(X))),
                     _np(theirs["comp_conv2d"](layer_t, torch.tensor(X))), rtol=1e-5, atol=1e-6)


# 6.4: several input and output channels, and the 1x1 convolution as a matrix product
MULTI_CHANNEL = '''
def corr2d_multi_in(X, K):
    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))

def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)

def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    return torch.matmul(K, X).reshape((c_o, h, w))

X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
two_in = corr2d_multi_in(X, K)
K = torch.stack((K, K + 1, K + 2), 0)
three_out = corr2d_multi_in_out(X, K)

X = torch.normal(0, 1, (3, 3, 3))
K = torch.normal(0, 1, (2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
assert float(torch.abs(Y1 - Y2).sum()) < 1e-6
'''


def test_multiple_channels_and_the_one_by_one_convolution_match_torch():
    ours, theirs = _both(MULTI_CHANNEL)
    assert _np(ours["two_in"]).tolist() == _np(theirs["two_in"]).tolist() == \
        [[56.0, 72.0], [104.0, 120.0]]
    assert ours["K"].shape == (2, 3, 1, 1) and ours["three_out"].shape == (3, 2, 2)
    assert _np(ours["three_out"]).tolist() == _np(theirs["three_out"]).tolist()
    # the same random X and K through chainrule's helpers and PyTorch's conv2d
    X, K = _np(ours["X"]), _np(ours["K"])
    conv = torch.nn.functional.conv2d(torch.tensor(X)[None], torch.tensor(K))[0]
    assert_close(_np(ours["Y1"]), conv.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(_np(ours["corr2d_multi_in_out"](chainrule.tensor(X), chainrule.tensor(K))),
                 conv.numpy(), rtol=1e-5, atol=1e-6)


# 6.5: pooling from scratch, then the pooling layers with padding, stride and channels
POOLING = '''
def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            if mode == 'max':
                Y[i, j] = window.max()
            elif mode == 'avg':
                Y[i, j] = window.mean()
    return Y

X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
max_2x2, avg_2x2 = pool2d(X, (2, 2)), pool2d(X, (2, 2), 'avg')
X = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))
default_stride = nn.MaxPool2d(3)(X)
padded = nn.MaxPool2d(3, padding=1, stride=2)(X)
rectangular = nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))(X)
X = torch.cat((X, X + 1), 1)
two_channels = nn.MaxPool2d(3, padding=1, stride=2)(X)
'''


def test_pooling_section_matches_torch():
    ours, theirs = _both(POOLING)
    assert _np(ours["max_2x2"]).tolist() == [[4.0, 5.0], [7.0, 8.0]]
    assert _np(ours["avg_2x2"]).tolist() == [[2.0, 3.0], [5.0, 6.0]]
    for name in ("max_2x2", "avg_2x2", "default_stride", "padded", "rectangular",
                 "two_channels"):
        assert ours[name].shape == theirs[name].shape, name
        assert _np(ours[name]).tolist() == _np(theirs[name]).tolist(), name


@pytest.mark.parametrize("mode,layer", [("max", "MaxPool2d"), ("avg", "AvgPool2d")])
def test_pool2d_from_scratch_agrees_with_the_pooling_layers_at_stride_one(mode, layer):
    ours, _ = _both(POOLING)
    X = np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32)
    scratch = ours["pool2d"](chainrule.tensor(X), (2, 3), mode)
    pooled = getattr(chainrule.nn, layer)((2, 3), stride=1)(chainrule.tensor(X)[None, None])
    reference = getattr(torch.nn, layer)((2, 3), stride=1)(torch.tensor(X)[None, None])
    assert_close(_np(scratch), _np(pooled)[0, 0], rtol=1e-6, atol=1e-6)
    assert_close(_np(pooled), reference.numpy(), rtol=1e-6, atol=1e-6)
