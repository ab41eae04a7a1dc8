"""The labelled corpus of benchmarks/diagnosis: enough runs, every verdict several
recipes, held-out recipes for every verdict, and a run is reproducible from its seed."""
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "diagnosis" / "corpus.py"


def _corpus():
    spec = importlib.util.spec_from_file_location("diagnosis_corpus", CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_covers_every_verdict_with_several_recipes_and_held_out_ones():
    corpus = _corpus()
    from chainrule.train.diagnosis import VERDICTS
    assert set(corpus.VERDICTS) == set(VERDICTS)
    per_label = Counter(r.label for r in corpus.RECIPES)
    assert all(per_label[v] >= 3 for v in VERDICTS), per_label
    held = {r.label for r in corpus.RECIPES if r.held_out == 2}
    assert held == set(VERDICTS)
    assert len(corpus.RECIPES) * 6 >= 200  # run.py's default seeds
    assert len({r.name for r in corpus.RECIPES}) == len(corpus.RECIPES)


def test_a_labelled_run_is_the_same_for_the_same_seed():
    corpus = _corpus()
    recipe = corpus.recipe_named("digits-shuffled-labels")
    build, train, _, fit_kwargs = corpus.prepare(recipe, 3)
    _, again, _, _ = corpus.prepare(recipe, 3)
    np.testing.assert_array_equal(train[0], again[0])
    np.testing.assert_array_equal(train[1], again[1])
    first, second = (build()[0].weight.detach().numpy() for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert fit_kwargs["seed"] == 3 and fit_kwargs["loss"] == "cross_entropy"
