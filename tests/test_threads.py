"""The product policy: BLAS on one thread, a large product cut into parts by its shape
alone, the parts run on the free cores (or the count set_num_threads fixed). The bits
depend on the shapes only, never on the count or the machine's load."""
import subprocess
import sys
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import chainrule
from chainrule import threads


@pytest.fixture(autouse=True)
def policy_restored():
    yield
    threads._user[0] = None
    threads._current[0] = None


def _numpy_blas_threads():
    controllers = [c for c in threads._controllers() if c is not None]
    assert controllers, f"no BLAS found by threadpoolctl: {threadpool_info()}"
    return {c.get_num_threads() for c in controllers}


def test_small_minibatch_product_runs_on_one_blas_thread():
    x = chainrule.randn(32, 64)
    w = chainrule.randn(128, 64, requires_grad=True)
    chainrule.nn.functional.linear(x, w).sum().backward()
    assert _numpy_blas_threads() == {1}


def test_large_product_keeps_blas_on_one_thread_and_is_cut_by_shape():
    a = chainrule.randn(512, 512)
    a @ a
    assert _numpy_blas_threads() == {1}
    axis, cuts = threads.plan((512, 512), (512, 512))
    assert axis == -2 and len(cuts) - 1 == threads.MAX_PARTS and cuts[-1] == 512


def test_set_num_threads_fixes_the_count_and_blas_stays_on_one_thread():
    chainrule.set_num_threads(2)
    assert chainrule.get_num_threads() == 2
    chainrule.randn(4, 4) @ chainrule.randn(4, 4)
    assert _numpy_blas_threads() == {1}


def test_set_num_threads_auto_goes_back_to_following_the_free_cores():
    chainrule.set_num_threads(2)
    chainrule.set_num_threads("auto")
    assert threads._user[0] is None and chainrule.get_num_threads() == threads._CAP


@pytest.mark.parametrize("shape_a,shape_b", [((512, 300), (300, 200)), ((3, 256, 300), (300, 100)),
                                             ((20, 3000), (3000, 400)), ((784, 256), (256, 512)),
                                             ((2, 1, 300, 260), (3, 260, 140))])
def test_product_bits_are_the_same_for_every_thread_count(shape_a, shape_b):
    rng = np.random.default_rng(2)
    a = chainrule.tensor(rng.standard_normal(shape_a).astype(np.float32))
    b = chainrule.tensor(rng.standard_normal(shape_b).astype(np.float32))
    results = []
    for n in (1, 2, 3, "auto"):
        chainrule.set_num_threads(n)
        results.append((a @ b).numpy())
    assert len(threads.plan(shape_a, shape_b)[1]) > 2      # the product is really cut
    assert all(np.array_equal(r, results[0]) for r in results[1:])


def test_parts_made_one_after_another_equal_the_parallel_parts_bit_for_bit():
    """A compile recording makes the parts in order and joins them: the same bits."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((40, 2000)).astype(np.float32), rng.standard_normal((2000, 600)).astype(np.float32)
    chainrule.set_num_threads(2)
    axis, cuts = threads.plan(a.shape, b.shape)
    assert axis == -1 and len(cuts) > 2
    assert np.array_equal(threads.matmul(a, b), threads._joined_parts(axis, cuts, a, b))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, "fast"])
def test_set_num_threads_rejects_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="set_num_threads: expected a positive integer or 'auto'"):
        chainrule.set_num_threads(bad)


def test_products_under_the_policy_match_numpy_bit_for_bit():
    rng = np.random.default_rng(0)
    for shape_a, shape_b in [((32, 64), (64, 256)), ((3, 40, 50), (50, 60)), ((600, 600), (600, 20))]:
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        got = (chainrule.from_numpy(a) @ chainrule.from_numpy(b)).numpy()
        assert np.allclose(got, a @ b, rtol=1e-12, atol=1e-12 * np.abs(a).max() * np.abs(b).max() * a.shape[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
@pytest.mark.skipif(threads._CORES < 2, reason="needs two cores to see one taken")
def test_a_core_held_by_another_process_is_not_counted_free():
    busy = subprocess.Popen([sys.executable, "-c",
                             "import time\nt = time.time() + 20\nwhile time.time() < t: pass"])
    try:
        time.sleep(0.5)
        threads._free[1] = 0.0
        threads.free_cores()          # first sample
        time.sleep(0.6)
        threads._free[1] = 0.0
        assert threads.free_cores() <= threads._CORES - 1
    finally:
        busy.kill()
        busy.wait()


@pytest.mark.parametrize("shape_a,shape_b", [((0, 5), (5, 7)), ((5, 0), (0, 7)), ((2, 0, 3), (3, 4)),
                                             ((5,), (5,)), ((4, 5), (5,)), ((2, 3, 4), (4, 5))])
def test_empty_vector_and_batched_products_under_the_policy_match_numpy(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    got = chainrule.from_numpy(a) @ chainrule.from_numpy(b)
    assert got.shape == np.matmul(a, b).shape
    assert np.allclose(got.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-12 * max(1, a.shape[-1]))


def test_importing_chainrule_gives_blas_one_thread_before_any_product():
    """einsum, solve and the other LAPACK/BLAS users round the same way on every run."""
    code = ("import chainrule\nfrom chainrule import threads\n"
            "print(sorted({c.get_num_threads() for c in threads._controllers() if c is not None}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1]"


@pytest.mark.parametrize("dt_a,dt_b", [("float16", "float16"), ("int64", "int64"),
                                       ("float32", "float64"), ("int32", "float32")])
def test_products_cut_into_parts_keep_numpys_result_dtype_and_values(dt_a, dt_b):
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((300, 200)) * 3).astype(dt_a)
    b = (rng.standard_normal((200, 300)) * 3).astype(dt_b)
    assert len(threads.plan(a.shape, b.shape)[1]) > 2
    want = np.matmul(a, b)
    results = []
    for n in (1, 2):
        chainrule.set_num_threads(n)
        results.append(threads.matmul(a, b))
    for got in results:
        assert got.dtype == want.dtype
        scale = np.abs(a).max().astype(np.float64) * np.abs(b).max() * a.shape[1]
        tol = 1e-2 if want.dtype == np.float16 else 1e-5
        assert np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol * scale)
    assert np.array_equal(results[0], results[1])
