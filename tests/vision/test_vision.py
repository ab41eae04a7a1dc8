"""chainrule.vision: datasets (from tiny IDX files the tests write), simulated downloads,
the bundled Digits set, and transforms (checked against NumPy and PyTorch)."""
import hashlib
import os

import numpy as np
import pytest

import chainrule
from chainrule.vision import datasets, transforms
from chainrule.vision.datasets import download as dl
from chainrule.vision.idx import write_idx

from helpers import requires_torch, torch

N = 5


def make_split(folder, prefix, n=N, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    os.makedirs(folder, exist_ok=True)
    ext = ".gz" if gz else ""
    write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{ext}"), images)
    write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{ext}"), labels)
    return images, labels


# ---- MNIST / FashionMNIST from local files ----------------------------------------------
def test_torchvision_layout(tmp_path):
    images, labels = make_split(tmp_path / "FashionMNIST" / "raw", "train")
    ds = datasets.FashionMNIST(root=tmp_path, train=True)
    assert len(ds) == N and ds.data.dtype == chainrule.uint8 and ds.data.shape == (N, 28, 28)
    assert ds.targets.dtype == chainrule.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert ds.classes[0] == "T-shirt/top" and len(ds.classes) == 10
    img, target = ds[2]
    assert isinstance(target, int) and target == labels[2]
    np.testing.assert_array_equal(img.numpy(), images[2])


def test_flat_folder_raw_files_and_test_split(tmp_path):
    images, labels = make_split(tmp_path, "t10k", gz=False)
    ds = datasets.MNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.classes[3] == "3 - three"


def test_missing_files_message(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[\.gz\] not found"
                       r".*download=True.*put them in .*FashionMNIST.raw"):
        datasets.FashionMNIST(tmp_path)


def test_labels_must_match_images(tmp_path):
    make_split(tmp_path, "train")
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(N + 1, dtype=np.uint8))
    with pytest.raises(ValueError, match=f"expected {N} labels"):
        datasets.MNIST(tmp_path)


def test_getitem_applies_transform_and_target_transform(tmp_path):
    images, labels = make_split(tmp_path, "train")
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor(),
                        target_transform=lambda y: y + 100)
    img, target = ds[1]
    assert img.shape == (1, 28, 28) and img.dtype == chainrule.float32
    np.testing.assert_allclose(img.numpy()[0], images[1] / 255, rtol=1e-6)
    assert target == labels[1] + 100


def test_getitems_batch_matches_getitem(tmp_path):
    make_split(tmp_path, "train")
    trans = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    ds = datasets.MNIST(tmp_path, transform=trans)
    calls = []
    orig = ds.transform.__class__.__call__
    ds.transform.__class__.__call__ = lambda self, x: calls.append(1) or orig(self, x)
    try:
        x, y = ds.__getitems__([4, 0, 2])
    finally:
        ds.transform.__class__.__call__ = orig
    assert calls == []  # the batch path never calls the per-image transform
    assert x.shape == (3, 1, 28, 28) and y.dtype == chainrule.int64
    for row, i in enumerate([4, 0, 2]):
        img, target = ds[i]
        np.testing.assert_allclose(x.numpy()[row], img.numpy(), rtol=1e-6)
        assert y.numpy()[row] == target


def test_getitems_falls_back_per_image_for_plain_callables(tmp_path):
    images, labels = make_split(tmp_path, "train")
    ds = datasets.MNIST(tmp_path, transform=lambda a: a[:2, :3].astype(np.float32),
                        target_transform=lambda y: y * 2)
    x, y = ds.__getitems__([1, 3])
    assert x.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.numpy(), labels[[1, 3]].astype(np.int64) * 2)
    with pytest.raises(IndexError, match="index out of range"):
        ds.__getitems__([0, N])


def test_getitems_without_transform(tmp_path):
    images, labels = make_split(tmp_path, "train")
    x, y = datasets.MNIST(tmp_path).__getitems__(np.array([3, 1]))
    assert x.dtype == chainrule.uint8
    np.testing.assert_array_equal(x.numpy(), images[[3, 1]])


# ---- downloads, simulated ---------------------------------------------------------------
def served_files(tmp_path, cls, train=True):
    """Write gz files to a 'server' folder and point the class at it with file:// URLs."""
    server = tmp_path / "server"
    images, labels = make_split(server, "train" if train else "t10k")
    res = cls.resources_train if train else cls.resources_test
    names = [n for n, _ in res]
    md5s = {n: hashlib.md5((server / n).read_bytes()).hexdigest() for n in names}
    return server, images, labels, tuple((n, md5s[n]) for n in names)


def test_download_via_file_urls(tmp_path, monkeypatch):
    server, images, labels, resources = served_files(tmp_path, datasets.FashionMNIST)
    monkeypatch.setattr(datasets.FashionMNIST, "resources_train", resources)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors",
                        ("file:///nonexistent/mirror/", server.as_uri() + "/"))
    root = tmp_path / "data"
    ds = datasets.FashionMNIST(root, train=True, download=True)
    assert (root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert not [p for p in os.listdir(root / "FashionMNIST" / "raw") if p.startswith(".")]


def test_download_skips_present_files(tmp_path, monkeypatch):
    make_split(tmp_path, "train", gz=False)
    monkeypatch.setattr(dl, "fetch", lambda url, out: pytest.fail("must not download"))
    assert len(datasets.MNIST(tmp_path, download=True)) == N


def test_download_retries_then_succeeds(tmp_path, monkeypatch):
    server, images, _, resources = served_files(tmp_path, datasets.MNIST)
    monkeypatch.setattr(datasets.MNIST, "resources_train", resources)
    attempts = []

    def flaky(url, out):
        attempts.append(url)
        if len(attempts) <= 2:
            raise OSError("connection reset")
        out.write((server / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(dl, "fetch", flaky)
    sleeps = []
    monkeypatch.setattr(dl.time, "sleep", sleeps.append)
    ds = datasets.MNIST(tmp_path / "d", download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert len(attempts) == 4 and sleeps == [1.0]  # 2 mirrors failed, backoff, then ok
    assert attempts[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/")


def test_download_md5_mismatch_keeps_old_file(tmp_path, monkeypatch):
    dest = tmp_path / "f.gz"
    dest.write_bytes(b"old content")
    monkeypatch.setattr(dl, "fetch", lambda url, out: out.write(b"tampered"))
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    with pytest.raises(dl.DownloadError, match="MD5 mismatch.*expected 0123"):
        dl.download(["http://mirror/f.gz"], str(dest), md5="0123", attempts=2)
    assert dest.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["f.gz"]  # no temporary file left behind


def test_download_cut_mid_file_leaves_no_file_that_looks_complete(tmp_path, monkeypatch):
    def cut(url, out):
        out.write(b"first half")
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(dl, "fetch", cut)
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    with pytest.raises(dl.DownloadError, match="connection reset by peer"):
        dl.download(["http://mirror/f.gz"], str(tmp_path / "f.gz"), attempts=2)
    assert os.listdir(tmp_path) == []


def test_offline_message_says_where_to_put_files(tmp_path, monkeypatch):
    def offline(url, out):
        raise OSError("Name or service not known")

    monkeypatch.setattr(dl, "fetch", offline)
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    with pytest.raises(dl.DownloadError) as err:
        datasets.FashionMNIST(tmp_path, download=True)
    msg = str(err.value)
    assert "after 3 attempt(s)" in msg and "Name or service not known" in msg
    assert "offline" in msg and os.path.join(str(tmp_path), "FashionMNIST", "raw") in msg
    assert "fashion-mnist.s3-website.eu-central-1.amazonaws.com" in msg


def test_official_checksums_listed():
    assert dict(datasets.MNIST.resources_train)["train-images-idx3-ubyte.gz"] == \
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert dict(datasets.FashionMNIST.resources_test)["t10k-labels-idx1-ubyte.gz"] == \
        "bb300cfdad3c16e7a12a480ee83cd310"


# ---- Digits -----------------------------------------------------------------------------
def test_digits_split_is_fixed_and_stratified():
    train, test = datasets.Digits(train=True), datasets.Digits(root="ignored", train=False)
    assert (len(train), len(test)) == (1438, 359)
    assert train.data.dtype == chainrule.uint8 and train.data.shape == (1438, 8, 8)
    assert int(train.data.numpy().max()) == 16 and int(train.data.numpy().min()) == 0
    counts_train = np.bincount(train.targets.numpy(), minlength=10)
    counts_test = np.bincount(test.targets.numpy(), minlength=10)
    total = counts_train + counts_test
    assert total.sum() == 1797
    np.testing.assert_array_equal(counts_test, np.round(total / 5))
    _, _, tr, te = datasets.digits.load_digits_arrays()
    assert not set(tr) & set(te) and len(set(tr) | set(te)) == 1797


def test_digits_getitems_and_transform():
    ds = datasets.Digits(transform=transforms.Lambda(lambda a: a.astype(np.float32) / 16,
                                                     batched=True))
    x, y = ds.__getitems__(range(4))
    assert x.shape == (4, 8, 8) and float(x.numpy().max()) <= 1.0
    img, target = ds[0]
    np.testing.assert_allclose(img, ds.data.numpy()[0] / 16)
    assert target == y.numpy()[0]


# ---- transforms -------------------------------------------------------------------------
def test_to_tensor_layouts():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = transforms.ToTensor()(hwc)
    assert t.shape == (3, 2, 3) and t.dtype == chainrule.float32
    np.testing.assert_allclose(t.numpy(), hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    batch = np.stack([hwc, hwc])
    assert transforms.ToTensor().batch(batch).shape == (2, 3, 2, 3)
    assert transforms.ToTensor().batch(batch[..., 0]).shape == (2, 1, 2, 3)


def test_transform_errors():
    with pytest.raises(TypeError, match="ToTensor: expected a NumPy array or a chainrule "
                                        "tensor, got list"):
        transforms.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match=r"ToTensor: expected one image HW or HWC, got "
                                         r"ndarray of shape \(1, 2, 3, 4\)"):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="Normalize: expected a float tensor"):
        transforms.Normalize([0.5], [0.5])(chainrule.zeros(1, 2, 2, dtype=chainrule.uint8))
    with pytest.raises(ValueError, match="2 means/stds given for an image with 3 channels"):
        transforms.Normalize([0.5, 0.5], [1, 1])(chainrule.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="std must not contain zeros"):
        transforms.Normalize([0.5], [0])
    with pytest.raises(TypeError, match="Resize: size must be an int"):
        transforms.Resize("big")
    with pytest.raises(ValueError, match="Resize: expected an array HW or HWC"):
        transforms.Resize(4)(np.zeros(5, np.uint8))
    with pytest.raises(TypeError, match="Compose: 3 is not callable"):
        transforms.Compose([3])


def test_compose_batch_only_when_all_members_batch():
    assert hasattr(transforms.Compose([transforms.ToTensor()]), "batch")
    assert not hasattr(transforms.Compose([transforms.ToTensor(), lambda x: x]), "batch")


@requires_torch
def test_normalize_matches_torch():
    x = np.random.default_rng(0).random((2, 3, 4, 5), dtype=np.float32)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    ours = transforms.Normalize(mean, std).batch(chainrule.from_numpy(x)).numpy()
    ref = (torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / \
        torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(12, 7), (3, 5), 10])
def test_resize_matches_torch_interpolate(mode, size):
    img = np.random.default_rng(1).random((6, 8), dtype=np.float32)
    ours = transforms.Resize(size, interpolation=mode)(img)
    target = size if isinstance(size, tuple) else (10, int(10 * 8 / 6))
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    ref = torch.nn.functional.interpolate(torch.from_numpy(img)[None, None], size=target,
                                          mode=mode, **kwargs)[0, 0].numpy()
    assert ours.shape == target
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_resize_uint8_batch_and_tensor():
    batch = np.random.default_rng(2).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    out = transforms.Resize(56).batch(batch)
    assert out.shape == (4, 56, 56) and out.dtype == np.uint8
    single = transforms.Resize(56)(batch[1])
    np.testing.assert_array_equal(out[1], single)
    t = transforms.Resize((14, 14), "nearest")(chainrule.from_numpy(batch[:, None]))
    assert isinstance(t, chainrule.Tensor) and t.shape == (4, 1, 14, 14)
    np.testing.assert_array_equal(t.numpy()[:, 0], batch[:, ::2, ::2])


def test_d2l_style_pipeline(tmp_path):
    make_split(tmp_path / "FashionMNIST" / "raw", "train")
    trans = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])
    ds = datasets.FashionMNIST(root=str(tmp_path), train=True, transform=trans, download=False)
    x, y = ds.__getitems__([0, 1])
    assert x.shape == (2, 1, 64, 64) and x.dtype == chainrule.float32
    assert ds[0][0].shape == (1, 64, 64)


def test_dataloader_uses_batch_protocol(tmp_path, monkeypatch):
    make_split(tmp_path, "train")
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor())
    monkeypatch.setattr(datasets.MNIST, "__getitem__",
                        lambda self, i: pytest.fail("per-item access on the hot path"))
    loader = chainrule.utils.data.DataLoader(ds, batch_size=2, shuffle=False)
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(2, 1, 28, 28), (2, 1, 28, 28),
                                                   (1, 1, 28, 28)]
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]),
                                  ds.targets.numpy())


def test_download_gives_up_after_one_round_when_no_mirror_answers(tmp_path, monkeypatch):
    import urllib.error
    calls = []

    def offline(url, out):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(dl, "fetch", offline)
    monkeypatch.setattr(dl.time, "sleep", lambda s: pytest.fail("must not wait when offline"))
    urls = ["https://a.example/x.gz", "https://b.example/x.gz"]
    with pytest.raises(dl.DownloadError, match="could not download x.gz"):
        dl.download(urls, str(tmp_path / "x.gz"), attempts=3)
    assert calls == urls
