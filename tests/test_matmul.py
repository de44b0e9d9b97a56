"""spaCy's matrix products on numpy's BLAS give what thinc's blis gives: the same
products, and over whole texts the same tags, parses and entities. Extraction
workers run one BLAS thread each."""

from __future__ import annotations

import numpy
import pytest
from thinc.api import NumpyOps

from newsdesk.extraction.matmul import MatmulOps, use_numpy_blas
from newsdesk.extraction.pool import _spawn_pool
from newsdesk.settings import Settings

# Our own sentences: speech, numbers, organisations and a long clause for the parser.
TEXTS = [
    "The finance minister, Ana Ruiz, said on Tuesday that the budget would grow by 4% to $28.5m.",
    '"We will not sign it," a spokesman for Northwind Ltd told reporters in Leeds.\n\nShares fell 3 pence.',
    "According to the report, which the council published after months of delay, about 1,200 homes "
    "in the north of the city were left without power, and engineers warned it could happen again.",
    "Mr Okafor, 54, denied the claims. He added that nobody at the bank had been told.",
]


def test_gemm_matches_blis_in_every_orientation():
    rng = numpy.random.default_rng(7)
    x = rng.standard_normal((37, 19), dtype=numpy.float32)
    y = rng.standard_normal((19, 23), dtype=numpy.float32)
    blis, ours = NumpyOps(), MatmulOps()
    cases = [(x, y, False, False), (x.T.copy(), y, True, False), (x, y.T.copy(), False, True)]
    for left, right, trans1, trans2 in cases:
        expected = blis.gemm(left, right, trans1=trans1, trans2=trans2)
        got = ours.gemm(left, right, trans1=trans1, trans2=trans2)
        assert got.dtype == numpy.float32 and got.shape == (37, 23)
        numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    out = numpy.zeros((37, 23), dtype=numpy.float32)
    assert ours.gemm(x, y, out=out) is out
    numpy.testing.assert_allclose(out, blis.gemm(x, y), rtol=1e-4, atol=1e-4)


def test_the_pipeline_runs_every_layer_on_numpy_blas(nlp):
    models = [getattr(component, "model", None) for _, component in nlp.components]
    layers = [node for model in models if hasattr(model, "walk") for node in model.walk()]
    assert len(layers) > 50 and all(isinstance(node.ops, MatmulOps) for node in layers)


def test_the_same_tags_parses_and_entities_as_blis():
    import spacy

    blis_model = spacy.load(Settings().model)
    ours = spacy.load(Settings().model)
    assert use_numpy_blas(ours)
    for theirs, mine in zip(blis_model.pipe(TEXTS), ours.pipe(TEXTS), strict=True):
        assert [(t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in mine] == [
            (t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in theirs
        ]


def test_another_backend_is_left_alone():
    import spacy

    model = spacy.load(Settings().model)

    class OtherOps(NumpyOps):
        name = "other"

    layer = next(node for node in model.get_pipe("ner").model.walk())
    layer.ops = OtherOps()
    assert use_numpy_blas(model) is False
    assert isinstance(layer.ops, OtherOps)


@pytest.mark.slow
def test_extraction_workers_run_one_blas_thread():
    from threadpoolctl import threadpool_info

    pool = _spawn_pool(1)
    try:
        libraries = pool.submit(threadpool_info).result(timeout=120)
    finally:
        pool.shutdown()
    blas = [library for library in libraries if library["user_api"] == "blas"]
    assert blas, "numpy's BLAS is loaded in the worker"
    assert all(library["num_threads"] == 1 for library in blas)
