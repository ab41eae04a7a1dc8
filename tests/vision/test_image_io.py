"""chainrule.vision.utils (make_grid, save_image) and chainrule.vision.io (read_image).
make_grid's expected grids are written out by hand from torchvision's documented layout
(torchvision is not a dependency); files go through Pillow, an optional extra."""
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.vision.io import ImageReadMode, read_image
from chainrule.vision.utils import make_grid, save_image

try:
    from PIL import Image as PIL
except ImportError:  # Pillow is the optional `image` extra; make_grid does not need it
    PIL = None
needs_pillow = pytest.mark.skipif(PIL is None, reason="Pillow (chainrule[image]) not installed")


def grey(*rows):
    return np.array(rows, dtype=np.float32)[None]  # 1×H×W


def test_make_grid_two_grey_images_side_by_side_with_padding_and_pad_value():
    a, b = grey([0.1, 0.2], [0.3, 0.4]), grey([0.5, 0.6], [0.7, 0.8])
    grid = make_grid(cr.tensor(np.stack([a, b])), padding=1, pad_value=0.9).numpy()
    p = 0.9
    plane = np.array([[p, p, p, p, p, p, p],
                      [p, 0.1, 0.2, p, 0.5, 0.6, p],
                      [p, 0.3, 0.4, p, 0.7, 0.8, p],
                      [p, p, p, p, p, p, p]], dtype=np.float32)
    assert grid.shape == (3, 4, 7)  # one channel is shown as grey RGB
    for c in range(3):
        np.testing.assert_array_equal(grid[c], plane)


def test_make_grid_wraps_rows_at_nrow_and_pads_the_missing_cell():
    imgs = [cr.tensor(np.full((3, 1, 2), v, dtype=np.float32)) for v in (1.0, 2.0, 3.0)]
    grid = make_grid(imgs, nrow=2, padding=0, pad_value=-1).numpy()
    expected = np.array([[1, 1, 2, 2], [3, 3, -1, -1]], dtype=np.float32)
    assert grid.shape == (3, 2, 4)
    np.testing.assert_array_equal(grid, np.broadcast_to(expected, (3, 2, 4)))


def test_make_grid_default_padding_two_and_eight_per_row():
    grid = make_grid(cr.ones(10, 3, 4, 5))
    # 8 columns and 2 rows of 4×5 cells, 2 pixels around each
    assert tuple(grid.shape) == (3, 2 * (4 + 2) + 2, 8 * (5 + 2) + 2)
    assert float(grid.sum()) == 10 * 3 * 4 * 5


def test_make_grid_normalize_uses_the_batch_minimum_and_maximum():
    x = np.array([[[[-2.0, 0.0]]], [[[2.0, 1.0]]]], dtype=np.float32)  # 2×1×1×2
    grid = make_grid(cr.tensor(x), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(grid[0], [[0.0, 0.5, 1.0, 0.75]])


def test_make_grid_normalize_scale_each_rescales_every_image_alone():
    x = np.array([[[[-2.0, 0.0]]], [[[2.0, 1.0]]]], dtype=np.float32)
    grid = make_grid(cr.tensor(x), normalize=True, scale_each=True, padding=0).numpy()
    np.testing.assert_allclose(grid[0], [[0.0, 1.0, 1.0, 0.0]])


def test_make_grid_value_range_clamps_then_rescales():
    x = np.array([[[[-5.0, 0.0, 5.0]]], [[[1.0, 2.0, 3.0]]]], dtype=np.float32)
    grid = make_grid(cr.tensor(x), normalize=True, value_range=(0.0, 2.0), padding=0).numpy()
    np.testing.assert_allclose(grid[1], [[0.0, 0.0, 1.0, 0.5, 1.0, 1.0]])


def test_make_grid_single_image_comes_back_without_padding():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    np.testing.assert_array_equal(make_grid(cr.tensor(x), padding=5).numpy(), x[0])
    np.testing.assert_array_equal(make_grid(cr.tensor(x[0])).numpy(), x[0])  # C×H×W input


def test_make_grid_rejects_what_is_not_images():
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="expected images of shape"):
        make_grid(cr.zeros(1, 2, 3, 4, 5))
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(cr.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1])
    with pytest.raises(RuntimeError, match="same shape"):
        make_grid([cr.zeros(3, 4, 4), cr.zeros(3, 5, 4)])


@needs_pillow
def test_save_image_then_read_image_round_trips_a_batch_grid(tmp_path, rng):
    x = rng.uniform(0, 1, size=(3, 3, 4, 5)).astype(np.float32)
    path = tmp_path / "grid.png"
    save_image(cr.tensor(x), path, nrow=2, padding=1, pad_value=1.0)
    back = read_image(str(path))
    grid = make_grid(cr.tensor(x), nrow=2, padding=1, pad_value=1.0).numpy()
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8)  # round half up
    assert back.dtype == cr.uint8 and tuple(back.shape) == expected.shape
    np.testing.assert_array_equal(back.numpy(), expected)


@needs_pillow
def test_save_image_of_one_grey_image_reads_back_as_rgb_by_default_and_grey_on_request(tmp_path):
    x = np.array([[[0.0, 0.5], [1.0, 0.25]]], dtype=np.float32)  # 1×2×2
    path = tmp_path / "one.png"
    save_image(cr.tensor(x), path)
    expected = np.array([[0, 128], [255, 64]], dtype=np.uint8)
    rgb = read_image(path)
    assert tuple(rgb.shape) == (3, 2, 2)
    np.testing.assert_array_equal(rgb.numpy(), np.broadcast_to(expected, (3, 2, 2)))
    np.testing.assert_array_equal(read_image(path, ImageReadMode.GRAY).numpy(), expected[None])


@needs_pillow
def test_save_image_clamps_values_outside_zero_one_and_writes_file_objects(tmp_path):
    import io
    buf = io.BytesIO()
    save_image(cr.tensor([[[-3.0, 2.0]]]), buf, format="png")
    buf.seek(0)
    path = tmp_path / "clamped.png"
    path.write_bytes(buf.getvalue())
    np.testing.assert_array_equal(read_image(path, ImageReadMode.GRAY).numpy(), [[[0, 255]]])


@needs_pillow
@pytest.mark.parametrize("mode,pil_mode,channels", [
    (ImageReadMode.UNCHANGED, "RGBA", 4), (ImageReadMode.RGB, "RGBA", 3),
    (ImageReadMode.GRAY_ALPHA, "RGBA", 2), (ImageReadMode.UNCHANGED, "L", 1),
    (ImageReadMode.RGB_ALPHA, "L", 4), (ImageReadMode.UNCHANGED, "P", 3)])
def test_read_image_modes_give_uint8_channels_first(tmp_path, rng, mode, pil_mode, channels):
    pixels = rng.integers(0, 256, size=(3, 5, 4), dtype=np.uint8)
    img = PIL.fromarray(pixels, "RGBA")
    img = img.convert("RGB").convert("P") if pil_mode == "P" else img.convert(pil_mode)
    path = tmp_path / "img.png"
    img.save(path)
    out = read_image(path, mode)
    want = {ImageReadMode.UNCHANGED: img.convert("RGB") if pil_mode == "P" else img,
            ImageReadMode.RGB: img.convert("RGB"), ImageReadMode.GRAY_ALPHA: img.convert("LA"),
            ImageReadMode.RGB_ALPHA: img.convert("RGBA")}[mode]
    arr = np.asarray(want)
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    assert out.dtype == cr.uint8 and tuple(out.shape) == (channels, 3, 5)
    np.testing.assert_array_equal(out.numpy(), arr.transpose(2, 0, 1))


@needs_pillow
def test_read_image_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="read_image: no such file"):
        read_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(RuntimeError, match="could not decode"):
        read_image(junk)
    with pytest.raises(ValueError, match="unknown mode"):
        read_image(junk, "sepia")
    deep = tmp_path / "deep.png"
    PIL.fromarray(np.zeros((2, 2), dtype=np.uint16) + 1000).save(deep)
    with pytest.raises(RuntimeError, match="not supported"):
        read_image(deep)


def test_missing_pillow_error_names_the_image_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)  # `import PIL` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install chainrule\[image\]"):
        save_image(cr.zeros(3, 2, 2), tmp_path / "x.png")
    with pytest.raises(ImportError, match=r"pip install chainrule\[image\]"):
        read_image(tmp_path / "x.png")
    assert tuple(make_grid(cr.zeros(2, 3, 2, 2)).shape) == (3, 6, 10)  # no Pillow needed


def test_make_grid_passes_gradients_back_to_the_images():
    x = cr.tensor(np.linspace(-1, 1, 2 * 1 * 2 * 2).reshape(2, 1, 2, 2), requires_grad=True)
    grid = make_grid(x, padding=1, normalize=True, value_range=(-0.5, 0.5))
    (grid * grid).sum().backward()
    # inside the range: d/dx sum over 3 channels of ((x + 0.5) / 1)^2 = 6 (x + 0.5); clamped: 0
    xs = x.detach().numpy()
    expected = np.where(np.abs(xs) <= 0.5, 6 * (xs + 0.5), 0.0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_make_grid_keeps_uint8_images_as_uint8():
    x = cr.tensor(np.arange(8, dtype=np.uint8).reshape(2, 1, 2, 2))
    grid = make_grid(x, padding=0, pad_value=255)
    assert grid.dtype == cr.uint8
    np.testing.assert_array_equal(grid.numpy()[0], [[0, 1, 4, 5], [2, 3, 6, 7]])
