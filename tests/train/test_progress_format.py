"""The epoch line's time: milliseconds below a second (a 23 ms epoch is not "0.0s") and
the step rate."""
import io

from chainrule.train.progress import duration


def test_subsecond_epoch_is_shown_in_milliseconds_with_step_rate():
    assert duration(0.0234, 45) == "23 ms, 1,923 steps/s"


def test_long_epoch_is_shown_in_seconds():
    assert duration(12.34) == "12.3 s"


def test_epoch_line_of_fit_never_reads_zero_seconds():
    import chainrule as cr
    from chainrule.train import fit
    cr.manual_seed(0)
    X, y = cr.randn(64, 4), cr.randint(0, 2, (64,))
    out = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out):
        fit(cr.nn.Linear(4, 2), (X, y), loss=cr.nn.CrossEntropyLoss(),
            optimizer=lambda p: cr.optim.SGD(p, lr=0.1), epochs=1, batch_size=16)
    line = [l for l in out.getvalue().splitlines() if l.startswith("Epoch 1/1")][0]
    assert "(0.0s)" not in line and " ms, " in line and "steps/s" in line
