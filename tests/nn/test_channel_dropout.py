"""Channel-wise dropout (dropout1d, dropout2d, Dropout1d, Dropout2d): whole channels are
zeroed, the rest scaled by 1/(1-p); masks come from chainrule's generator (reproducible
with manual_seed); PyTorch's shapes, warnings, errors, evaluation mode and repr."""
import numpy as np
import pytest

import chainrule as cr
from helpers import requires_torch, torch

F = cr.nn.functional


@pytest.mark.filterwarnings("ignore:dropout2d")  # a 3-D input counts as (N, C, L)
@pytest.mark.parametrize("fn,shape", [("dropout2d", (4, 6, 3, 5)), ("dropout2d", (6, 3, 5)),
                                      ("dropout1d", (4, 6, 7)), ("dropout1d", (6, 7))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(fn, shape):
    cr.manual_seed(0)
    x = cr.ones(*shape, dtype=cr.float64, requires_grad=True)
    y = getattr(F, fn)(x, p=0.25)
    lead = 1 if len(shape) == 2 else 2  # an unbatched dropout1d input is (C, L)
    per_channel = y.detach().numpy().reshape(shape[:lead] + (-1,))
    assert set(np.unique(per_channel)) <= {0.0, 1 / 0.75}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # one draw per channel
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_channel_dropout_is_reproducible_with_the_generator_seed():
    x = cr.randn(8, 16, 4, 4)
    cr.manual_seed(11)
    first = F.dropout2d(x, 0.5).numpy()
    cr.manual_seed(11)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).numpy(), first)
    kept = (first.reshape(8, 16, -1) != 0).any(-1).mean()
    assert 0.3 < kept < 0.7


def test_channel_dropout_in_evaluation_or_with_p_zero_returns_the_input():
    x = cr.randn(2, 3, 4, 4, requires_grad=True)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert (F.dropout2d(x, 1.0) == 0).all().item()


def test_channel_dropout_inplace_changes_its_input():
    x = cr.ones(2, 3, 4)
    cr.manual_seed(1)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_channel_dropout_of_an_empty_batch():
    assert F.dropout2d(cr.zeros(0, 3, 4, 4), 0.5).shape == (0, 3, 4, 4)


@requires_torch
@pytest.mark.parametrize("call,kind", [
    (lambda F, x: F.dropout2d(x, 1.5), ValueError),
    (lambda F, x: F.dropout1d(x, 0.5), RuntimeError),
    (lambda F, x: F.dropout2d(x.long(), 0.5), RuntimeError),
])
def test_channel_dropout_refuses_bad_arguments_as_torch(call, kind):
    a = np.ones((2, 3, 4, 4), np.float32)
    with pytest.raises(kind):
        call(torch.nn.functional, torch.tensor(a))
    with pytest.raises(kind, match="dropout"):
        call(F, cr.tensor(a))


def test_dropout2d_warns_on_three_and_five_dimensional_inputs_as_torch():
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        assert F.dropout2d(cr.ones(2, 3, 4)).shape == (2, 3, 4)
    with pytest.warns(UserWarning, match="5-D input"):
        F.dropout2d(cr.ones(1, 2, 3, 4, 4))


@requires_torch
@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("spec", ["Dropout2d()", "Dropout2d(0.2, True)", "Dropout1d(p=0.3)"])
def test_channel_dropout_modules_have_torch_repr_and_follow_train_and_eval(spec):
    ours = eval("cr.nn." + spec)
    assert repr(ours) == repr(eval("torch.nn." + spec))
    x = cr.ones(2, 3, 5)
    assert ours.eval()(x) is x
    assert not (ours.train()(cr.ones(64, 8, 5)).numpy() == 1).all()
