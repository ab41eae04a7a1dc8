"""d2l 7.6 (ResNet): d2l.Residual against the section's class on PyTorch (parameter names,
outputs and gradients in training and evaluation mode), the section's ResNet-18 run with
`torch` bound to chainrule and to PyTorch (layer shapes at 224x224, a train_ch6 epoch from
the same weights), and load_data_fashion_mnist(resize=96) as the section loads its data."""
import numpy as np
import pytest

import chainrule
from chainrule import d2l

from cli_helpers import write_tiny_idx
from d2l_chapter_code import (TRAIN_HELPERS, copy_parameters, final_numbers, fixed_batches,
                              fixed_xavier, namespace, run, stripes)
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch

RESIDUAL = '''
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1,
                                   stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)
'''

# the model: d2l.Residual on chainrule, the section's class on PyTorch
RESNET18 = '''
b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                   nn.BatchNorm2d(64), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk

b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
b3 = nn.Sequential(*resnet_block(64, 128, 2))
b4 = nn.Sequential(*resnet_block(128, 256, 2))
b5 = nn.Sequential(*resnet_block(256, 512, 2))
net = nn.Sequential(b1, b2, b3, b4, b5, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                    nn.Linear(512, 10))
'''

SHAPES = '''
X = torch.rand(size=(1, 1, 224, 224))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\\t', X.shape)
'''


def _torch_residual():
    ns = namespace(torch, None)
    run(RESIDUAL, ns)
    return ns["Residual"]


def _pair(*args, **kwargs):
    torch.manual_seed(0)
    theirs = _torch_residual()(*args, **kwargs)
    ours = d2l.Residual(*args, **kwargs)
    copy_parameters(theirs, ours)
    return ours, theirs


@pytest.mark.parametrize("args,kwargs,out_shape", [
    ((3, 3), {}, (4, 3, 6, 6)), ((3, 6), dict(use_1x1conv=True, strides=2), (4, 6, 3, 3))])
def test_residual_matches_the_sections_class_in_training_and_evaluation(args, kwargs,
                                                                        out_shape):
    ours, theirs = _pair(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    X = np.random.default_rng(0).standard_normal((4, 3, 6, 6)).astype(np.float32)
    xc = chainrule.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    yc, yt = ours(xc), theirs(xt)
    assert yc.shape == out_shape
    assert_close(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    yc.backward(chainrule.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert_close(ours.bn1.running_var.numpy(), theirs.bn1.running_var.numpy(), rtol=1e-5,
                 atol=1e-6)
    ours.eval(), theirs.eval()
    with chainrule.no_grad(), torch.no_grad():
        assert_close(ours(chainrule.tensor(X)).numpy(), theirs(torch.tensor(X)).numpy(),
                     rtol=1e-4, atol=1e-5)


def test_residual_without_a_shortcut_conv_adds_a_broadcastable_input_as_pytorch():
    ours, theirs = _pair(1, 3)  # d2l adds in place: (N, 1, H, W) broadcasts to 3 channels
    X = np.random.default_rng(2).standard_normal((2, 1, 5, 5)).astype(np.float32)
    assert_close(ours(chainrule.tensor(X)).detach().numpy(),
                 theirs(torch.tensor(X)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_residual_that_changes_the_shape_without_a_shortcut_conv_says_so():
    with pytest.raises(RuntimeError):  # PyTorch: the in-place add cannot broadcast
        _torch_residual()(3, 6, strides=2)(torch.rand(2, 3, 6, 6))
    with pytest.raises(RuntimeError, match=r"Residual: the block's output \(2, 6, 3, 3\) and "
                                           r"its shortcut \(2, 3, 6, 6\) differ in shape; .*"
                                           "use_1x1conv=True"):
        d2l.Residual(3, 6, strides=2)(chainrule.rand(2, 3, 6, 6))


@pytest.mark.slow
def test_resnet18_layer_shapes_at_224_match_torch():
    printed = {}
    for lib, residual in ((chainrule, d2l.Residual), (torch, _torch_residual())):
        ns = namespace(lib, d2l, Residual=residual)
        printed[lib.__name__] = run(RESNET18 + SHAPES, ns).replace(f"{lib.__name__}.Size", "Size")
    assert printed["chainrule"] == printed["torch"]
    assert "Sequential output shape:\t Size([1, 512, 7, 7])" in printed["chainrule"]
    assert printed["chainrule"].splitlines()[-1] == "Linear output shape:\t Size([1, 10])"


@pytest.mark.slow
def test_resnet18_trains_an_epoch_with_train_ch6_as_pytorch_does(monkeypatch):
    """Smaller inputs than the book's 96x96 (the reader's choice on a CPU): 28x28 images,
    five batches of four (the book's loop plots every num_batches // 5 batches, so it needs
    five). In float64: batch statistics of four images at 1x1 pixels in the last blocks
    make this training amplify rounding about tenfold per step, so float32 runs of the
    two libraries part after a few steps while float64 ones agree to 1e-9."""
    fixed_xavier(monkeypatch, chainrule, torch)
    nets = {}
    for lib, residual in ((torch, _torch_residual()), (chainrule, d2l.Residual)):
        ns = namespace(lib, d2l, Residual=residual)
        run(RESNET18, ns)
        nets[lib.__name__] = ns["net"].double()
    copy_parameters(nets["torch"], nets["chainrule"])
    X, y = stripes(20, 0)
    X = X.astype(np.float64)
    printed = {}
    for lib in (torch, chainrule):
        ns = namespace(lib, d2l)
        run(TRAIN_HELPERS, ns)
        train = d2l.train_ch6 if lib is chainrule else ns["train_ch6"]
        args = (nets[lib.__name__], fixed_batches(X, y, 4, lib), fixed_batches(X, y, 4, lib),
                1, 0.05, lib.device("cpu"))
        printed[lib.__name__] = run("train(*args)", {"train": train, "args": args})
    assert final_numbers(printed["chainrule"]) == final_numbers(printed["torch"])
    theirs = nets["torch"].state_dict()
    for key, value in nets["chainrule"].state_dict().items():
        # conv biases before batch norm get only rounding noise as their gradient
        noise = key.endswith("bias") and ("conv" in key or key == "0.0.bias")
        assert_close(value.numpy(), theirs[key].numpy(), rtol=1e-6, atol=1e-4 if noise else 1e-8,
                     err_msg=key)


def test_load_data_fashion_mnist_resizes_to_96_as_bilinear_interpolation(tmp_path,
                                                                         monkeypatch):
    write_tiny_idx(tmp_path / "data", "FashionMNIST", n_train=20, n_test=10)
    (tmp_path / "nb").mkdir()
    monkeypatch.chdir(tmp_path / "nb")
    train_iter, test_iter = d2l.load_data_fashion_mnist(8, resize=96)
    X, y = next(iter(test_iter))  # not shuffled: the first eight test images
    assert X.shape == (8, 1, 96, 96) and X.dtype == chainrule.float32 and y.shape == (8,)
    assert len(train_iter) == 3
    _, raw_test = d2l.load_data_fashion_mnist(8)
    raw, _ = next(iter(raw_test))
    # PyTorch's bilinear (half-pixel centres) on the 0-255 pixels; the transform resizes
    # the uint8 image first (torchvision's order), so the pixels are rounded to integers
    expected = torch.nn.functional.interpolate(torch.tensor(raw.numpy()) * 255, size=96,
                                               mode="bilinear", align_corners=False)
    np.testing.assert_allclose(X.numpy() * 255, expected.numpy(), atol=0.5 + 1e-3)
