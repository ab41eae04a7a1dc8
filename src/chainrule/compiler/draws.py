"""Random draws during a recording: each draw runs for real and becomes a replay step."""
import functools

import numpy as np


def _plain(x):
    from .traced_array import _plain as plain
    return plain(x)


class Draws:
    """A NumPy Generator stand-in: each draw runs for real and becomes a replay step that
    draws again from the chainrule generator's current NumPy generator."""

    def __init__(self, recorder, generator):
        self._recorder, self._generator = recorder, generator

    def __getattr__(self, name):
        recorder, generator = self._recorder, self._generator

        def draw(*args, **kwargs):
            pargs, pkw = [_plain(a) for a in args], {k: _plain(v) for k, v in kwargs.items()}
            result = np.asarray(getattr(generator._rng, name)(*pargs, **pkw))
            recorder.generators.add(generator)
            recorder._note("draw", name, recorder.describe(tuple(args)),
                           tuple((k, recorder.describe(v)) for k, v in kwargs.items()))

            def step():
                np.copyto(result, getattr(generator._rng, name)(*pargs, **pkw))
            recorder._add(step, functools.partial(np.copyto, result, result.copy()))
            return recorder.trace(result)
        return draw
