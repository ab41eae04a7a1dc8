"""chainrule.utils.data against torch.utils.data where the semantics compare (lengths,
drop_last, batch shapes and dtypes, collate structure), plus reproducible shuffling,
mid-epoch resume, the vectorised batch path and error messages."""
import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import data
from chainrule.utils.data import DataLoader, TensorDataset
from helpers import requires_torch, torch


def _structure(batch):
    """Type/shape/dtype skeleton of a batch, comparable across the two frameworks."""
    if isinstance(batch, dict):
        return {k: _structure(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_structure(v) for v in batch])
    if hasattr(batch, "shape") and hasattr(batch, "dtype"):
        return (tuple(batch.shape), str(batch.dtype).split(".")[-1])
    return batch


class PairDataset:
    """A plain map-style dataset of (array, int, float) samples; no batch protocol."""

    def __init__(self, n):
        self.x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(i), float(i) / 2


@requires_torch
@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True),
                                                     (9, 3, True), (5, 8, False), (1, 1, False)])
def test_tensor_dataset_batches_match_torch(n, batch_size, drop_last):
    x = np.random.default_rng(0).normal(size=(n, 3, 2)).astype(np.float32)
    y = np.arange(n)
    cl = DataLoader(TensorDataset(cr.tensor(x), cr.tensor(y)), batch_size=batch_size, drop_last=drop_last)
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                     batch_size=batch_size, drop_last=drop_last)
    assert len(cl) == len(tl)
    cb, tb = list(cl), list(tl)
    assert [_structure(b) for b in cb] == [_structure(b) for b in tb]
    for c, t in zip(cb, tb):
        for cc, tt in zip(c, t):
            np.testing.assert_array_equal(cc.numpy(), tt.numpy())


@requires_torch
def test_collate_of_plain_samples_matches_torch():
    Point = collections.namedtuple("Point", "x y")
    samples = [(np.ones(3, np.float64) * i, i, i / 2, {"a": np.int32(i), "b": [i, i + 1]},
                Point(i, float(i)), True, "s") for i in range(4)]
    c = data.default_collate(samples)
    t = torch.utils.data.default_collate(samples)
    assert _structure(c) == _structure(t)
    assert type(c[4]).__name__ == "Point"
    np.testing.assert_array_equal(c[3]["b"][1].numpy(), t[3]["b"][1].numpy())
    cl = DataLoader(PairDataset(7), batch_size=3)
    tl = torch.utils.data.DataLoader(PairDataset(7), batch_size=3)
    assert [_structure(b) for b in cl] == [_structure(b) for b in tl]


def test_tensor_dataset_fetches_whole_batches_without_getitem():
    class Watched(TensorDataset):
        def __getitem__(self, index):
            raise AssertionError("per-row __getitem__ was called")

    ds = Watched(cr.arange(12).reshape(6, 2), cr.arange(6))
    batches = list(DataLoader(ds, batch_size=4, shuffle=True))
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (2, 2)]
    seen = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(seen.tolist()) == list(range(6))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches])[:, 0], seen * 2)


def test_batch_is_a_copy_not_a_view_of_the_dataset():
    x = cr.zeros(4, 2)
    xb, = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    xb._data += 1
    assert x.sum().item() == 0


def test_getitems_protocol_for_other_datasets_and_subsets():
    class Images(data.Dataset):
        def __init__(self):
            self.pixels = np.arange(20, dtype=np.float32).reshape(10, 2)
            self.labels = np.arange(10)

        def __len__(self):
            return 10

        def __getitem__(self, i):
            raise AssertionError("per-row access")

        def __getitems__(self, indices):
            return self.pixels[indices], self.labels[indices]

    sub = data.Subset(Images(), [9, 8, 7, 6, 5])
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    assert isinstance(xb, cr.Tensor) and yb.tolist() == [9, 8, 7]
    both = data.ConcatDataset([Images(), sub])
    labels = np.concatenate([b[1].numpy() for b in DataLoader(both, batch_size=4, shuffle=True)])
    assert sorted(labels.tolist()) == sorted(list(range(10)) + [9, 8, 7, 6, 5])
    assert len(both) == 15


def test_custom_collate_fn_receives_samples():
    ds = TensorDataset(cr.arange(6))
    out = list(DataLoader(ds, batch_size=4, collate_fn=lambda s: len(s)))
    assert out == [4, 2]


def test_shuffle_is_reproducible_with_manual_seed_and_generator():
    ds = TensorDataset(cr.arange(50))

    def order(**kw):
        return np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=7, shuffle=True, **kw)])

    cr.manual_seed(3)
    a = order()
    cr.manual_seed(3)
    b = order()
    assert np.array_equal(a, b) and not np.array_equal(a, np.arange(50))
    g1, g2 = cr.Generator().manual_seed(5), cr.Generator().manual_seed(5)
    assert np.array_equal(order(generator=g1), order(generator=g2))
    cr.manual_seed(3)
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    first = np.concatenate([b[0].numpy() for b in loader])
    second = np.concatenate([b[0].numpy() for b in loader])
    assert np.array_equal(first, a) and not np.array_equal(first, second)


def test_resume_mid_epoch_reproduces_remaining_batches():
    ds = TensorDataset(cr.arange(40))
    cr.manual_seed(11)
    loader = DataLoader(ds, batch_size=6, shuffle=True)
    it = iter(loader)
    [next(it) for _ in range(3)]
    saved, rng_state = loader.state_dict(), cr.get_rng_state()
    rest = [b[0].tolist() for b in it]
    next_epoch = [b[0].tolist() for b in loader]
    assert saved["batches_served"] == 3 and saved["epoch_seed"] is not None

    cr.manual_seed(999)  # a fresh process: different global state until restored
    resumed = DataLoader(ds, batch_size=6, shuffle=True)
    resumed.load_state_dict(saved)
    cr.set_rng_state(rng_state)
    assert [b[0].tolist() for b in resumed] == rest
    assert [b[0].tolist() for b in resumed] == next_epoch
    assert resumed.state_dict() == {"batches_served": 0, "epoch_seed": None}


def test_random_split_lengths_fractions_and_generator():
    ds = TensorDataset(cr.arange(10))
    a, b = data.random_split(ds, [7, 3], generator=cr.Generator().manual_seed(1))
    assert (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    c, d = data.random_split(ds, [7, 3], generator=cr.Generator().manual_seed(1))
    assert c.indices == a.indices
    parts = data.random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = data.random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    assert a[0][0].item() == a.indices[0]
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal the length"):
        data.random_split(ds, [5, 4])


def test_samplers():
    ds = list(range(5))
    assert list(data.SequentialSampler(ds)) == [0, 1, 2, 3, 4]
    cr.manual_seed(0)
    perm = list(data.RandomSampler(ds))
    assert sorted(perm) == ds
    draws = list(data.RandomSampler(ds, replacement=True, num_samples=20))
    assert len(draws) == 20 and set(draws) <= set(ds)
    assert len(list(data.RandomSampler(ds, num_samples=12))) == 12
    assert list(data.BatchSampler(data.SequentialSampler(ds), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(data.BatchSampler(data.SequentialSampler(ds), 2, True)) == [[0, 1], [2, 3]]
    assert len(data.BatchSampler(range(5), 2, False)) == 3
    assert list(data.BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]


def test_loader_options():
    ds = TensorDataset(cr.arange(10))
    got = [b[0].tolist() for b in DataLoader(ds, sampler=[9, 0, 5], batch_size=2)]
    assert got == [[9, 0], [5]]
    got = [b[0].tolist() for b in DataLoader(ds, batch_sampler=[[1, 2, 3], [4]])]
    assert got == [[1, 2, 3], [4]]
    single = list(DataLoader(PairDataset(3), batch_size=None))
    assert isinstance(single[0][0], cr.Tensor) and single[2][1] == 2
    assert len(DataLoader(ds, batch_size=4, num_workers=4)) == 3

    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(np.arange(7, dtype=np.float32))

    assert [b.shape[0] for b in DataLoader(Stream(), batch_size=3)] == [3, 3, 1]
    assert [b.shape[0] for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [3, 3]


@pytest.mark.parametrize("make,error,message", [
    (lambda ds: DataLoader(ds, batch_size=0), ValueError, "positive integer value, but got batch_size=0"),
    (lambda ds: DataLoader(ds, batch_size=2.5), ValueError, "batch_size=2.5"),
    (lambda ds: DataLoader(ds, batch_size=-3), ValueError, "batch_size=-3"),
    (lambda ds: DataLoader(TensorDataset(cr.zeros(0, 2))), ValueError, "DataLoader: the dataset is empty"),
    (lambda ds: DataLoader(ds, shuffle=True, sampler=[0]), ValueError, "mutually exclusive with shuffle"),
    (lambda ds: DataLoader(ds, batch_size=2, batch_sampler=[[0]]), ValueError, "batch_sampler option"),
    (lambda ds: TensorDataset(cr.zeros(3), cr.zeros(4)), ValueError, r"same first dimension, got \[3, 4\]"),
    (lambda ds: data.ConcatDataset([]), ValueError, "should not be an empty iterable"),
    (lambda ds: data.default_collate([object()]), TypeError, "found object"),
    (lambda ds: data.default_collate([[1, 2], [3]]), RuntimeError, "should be of equal size"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make(TensorDataset(cr.arange(4)))


def test_resume_state_from_unshuffled_loader_rejected_by_shuffled_only_when_seeded():
    ds = TensorDataset(cr.arange(10))
    plain = DataLoader(ds, batch_size=3)
    it = iter(plain)
    next(it)
    assert plain.state_dict() == {"batches_served": 1, "epoch_seed": None}
    shuffled = DataLoader(ds, batch_size=3, shuffle=True)
    it = iter(shuffled)
    next(it)
    with pytest.raises(ValueError, match="this loader does not shuffle"):
        DataLoader(ds, batch_size=3).load_state_dict(shuffled.state_dict())
    plain2 = DataLoader(ds, batch_size=3)
    plain2.load_state_dict({"batches_served": 2, "epoch_seed": None})
    assert [b[0].tolist() for b in plain2] == [[6, 7, 8], [9]]
