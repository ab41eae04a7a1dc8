"""d2l 7.5: LeNet with batch normalisation, from scratch (the section's BatchNorm module)
and with nn.BatchNorm2d/1d, trained by d2l.train_ch6: PyTorch's weights, moving
statistics and numbers from the same start and batches, and the section run unchanged on
Fashion-MNIST-format files."""
import pytest
import numpy as np

import chainrule
from chainrule import d2l

from cli_helpers import write_tiny_idx
from d2l_chapter_code import assert_same_training, final_numbers, namespace, run, train_both
from helpers import assert_close, requires_torch
from test_d2l_batch_norm_scratch import SCRATCH  # the section's batch_norm and BatchNorm

pytestmark = requires_torch

LENET_SCRATCH_BN = SCRATCH + '''
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 4 * 4, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
    nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
    nn.Linear(84, 10))
'''

LENET_CONCISE_BN = '''
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
    nn.Linear(84, 10))
'''

# the book: batch 256, 10 epochs; smaller here, the reader's choice on a CPU
RUN = '''
lr = 1.0
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
d2l.train_ch6(net, train_iter, test_iter, num_epochs, lr, d2l.try_gpu())
scale, shift = net[1].gamma.reshape((-1,)), net[1].beta.reshape((-1,))
'''


def _np(t):
    return t.detach().numpy()


@pytest.mark.slow
def test_lenet_with_scratch_batch_norm_trains_as_pytorch_through_train_ch6(monkeypatch):
    nss, printed = train_both(monkeypatch, LENET_SCRATCH_BN, lambda ns: d2l.train_ch6, lr=1.0)
    assert_same_training(nss, printed)
    ours, theirs = nss["chainrule"]["net"], nss["torch"]["net"]
    for i in (1, 5, 10, 13):  # the moving statistics are plain tensors, not buffers
        assert_close(_np(ours[i].moving_mean), _np(theirs[i].moving_mean), rtol=2e-4, atol=2e-5)
        assert_close(_np(ours[i].moving_var), _np(theirs[i].moving_var), rtol=2e-4, atol=2e-5)
    assert ours[1].gamma.reshape((-1,)).shape == (6,)
    assert final_numbers(printed["chainrule"])[2] > 0.2  # above chance, where plain LeNet stalls


@pytest.mark.slow
def test_lenet_with_nn_batch_norm_trains_as_pytorch_through_train_ch6(monkeypatch):
    nss, printed = train_both(monkeypatch, LENET_CONCISE_BN, lambda ns: d2l.train_ch6, lr=1.0)
    assert_same_training(nss, printed)  # running statistics are in the state_dict here
    assert int(nss["chainrule"]["net"][1].num_batches_tracked) == 10  # 2 epochs of 5 batches


def test_batch_norm_section_runs_unchanged_on_fashion_mnist_files(tmp_path, monkeypatch):
    write_tiny_idx(tmp_path / "data", "FashionMNIST", n_train=200, n_test=50)
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")
    ns = namespace(chainrule, d2l, batch_size=32, num_epochs=2)
    out = run(LENET_SCRATCH_BN + RUN, ns)
    assert out.startswith("training on cpu\n") and "examples/sec on cpu" in out
    assert ns["scale"].shape == ns["shift"].shape == (6,)
    assert np.isfinite(_np(ns["scale"])).all() and final_numbers(out)[0] < 5
