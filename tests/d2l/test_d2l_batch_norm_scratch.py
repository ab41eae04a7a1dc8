"""d2l 7.5 builds batch normalisation from scratch: a function that normalises with batch
statistics under grad mode and with moving averages otherwise (reading `.data` and
`torch.is_grad_enabled()`), and a Module keeping the moving statistics as plain tensors.
The same source, written here after the chapter's description, runs with `torch` bound to
chainrule and to PyTorch; training steps and eval outputs agree."""
import numpy as np
import pytest

import chainrule

from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch

SCRATCH = '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        # prediction: the moving statistics
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            eps=1e-5, momentum=0.9)
        return Y


net = nn.Sequential(BatchNorm(2, num_dims=4), nn.Flatten(), nn.Linear(18, 8),
                    BatchNorm(8, num_dims=2), nn.Sigmoid(), nn.Linear(8, 3))
'''


def _build(lib):
    namespace = {"torch": lib, "nn": lib.nn}
    exec(compile(SCRATCH, "d2l_7_5_scratch", "exec"), namespace)
    return namespace["net"]


def _copy_linear_weights(src, dst):
    for (name, p), q in zip(src.named_parameters(), dst.parameters()):
        with chainrule.no_grad():
            q.copy_(chainrule.tensor(p.detach().numpy()))


def test_scratch_batch_norm_trains_and_predicts_like_torch():
    ours, theirs = _build(chainrule), _build(torch)
    _copy_linear_weights(theirs, ours)
    opt_ours = chainrule.optim.SGD(ours.parameters(), lr=0.5)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.5)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((16, 2, 3, 3)).astype(np.float32) * 2 + 1
        y = rng.integers(0, 3, 16)
        losses = []
        for lib, net, opt in ((chainrule, ours, opt_ours), (torch, theirs, opt_theirs)):
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for a, b in ((ours[0], theirs[0]), (ours[3], theirs[3])):
        assert type(a.moving_mean) is chainrule.Tensor and not a.moving_mean.requires_grad
        assert_close(a.moving_mean.numpy(), b.moving_mean.numpy(), rtol=1e-5, atol=1e-6)
        assert_close(a.moving_var.numpy(), b.moving_var.numpy(), rtol=1e-5, atol=1e-6)
        assert_close(a.gamma.detach().numpy(), b.gamma.detach().numpy(), rtol=1e-4, atol=1e-5)
    x = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    with chainrule.no_grad(), torch.no_grad():  # prediction uses the moving statistics
        assert_close(ours(chainrule.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                     rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_concise_batch_norm_layers_train_like_torch():
    """The chapter's concise version: nn.BatchNorm2d / nn.BatchNorm1d in a Sequential."""
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.BatchNorm2d(2), lib.nn.Flatten(), lib.nn.Linear(18, 8),
                                 lib.nn.BatchNorm1d(8), lib.nn.Sigmoid(), lib.nn.Linear(8, 3))
    ours, theirs = build(chainrule), build(torch)
    _copy_linear_weights(theirs, ours)
    opts = (chainrule.optim.SGD(ours.parameters(), lr=0.5),
            torch.optim.SGD(theirs.parameters(), lr=0.5))
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((16, 2, 3, 3)).astype(np.float32)
        y = rng.integers(0, 3, 16)
        for lib, net, opt in zip((chainrule, torch), (ours, theirs), opts):
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
    # the learned scale and shift, read as the chapter does
    assert_close(ours[3].weight.reshape((-1,)).detach().numpy(),
                 theirs[3].weight.reshape((-1,)).detach().numpy(), rtol=1e-4, atol=1e-5)
    assert_close(ours[0].running_var.numpy(), theirs[0].running_var.numpy(), rtol=1e-5,
                 atol=1e-6)
