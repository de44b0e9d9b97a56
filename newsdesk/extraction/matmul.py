"""spaCy's matrix products on numpy's BLAS instead of blis.

thinc's NumpyOps multiplies matrices with blis. On the x86 machines measured here
blis ran 3 x slower than the OpenBLAS that numpy ships (20,000 x 288 by 288 x 864:
318 ms against 106 ms, one thread each), and the model's tok2vec and feature layers
are mostly such products: the pipeline runs about 30 % faster on numpy's BLAS. It is
the same arithmetic up to float rounding; tags, parses and entities were identical
over 400 BBC articles (tests/test_matmul.py checks it on sentences of our own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy
from thinc.api import NumpyOps

if TYPE_CHECKING:
    from spacy.language import Language


class MatmulOps(NumpyOps):
    """NumpyOps whose gemm is numpy.matmul (numpy's BLAS): the rest is thinc's own."""

    name = "newsdesk_matmul"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False) -> Any:
        left = x.T if trans1 else x
        right = y.T if trans2 else y
        if out is None:
            return numpy.matmul(left, right)
        numpy.matmul(left, right, out=out)
        return out


def use_numpy_blas(nlp: Language) -> bool:
    """Give every layer of the pipeline's models MatmulOps; False if they run on
    another backend (a GPU, Apple's ops), which stays as it is."""
    ops = MatmulOps()
    layers = [node for _, component in nlp.components for node in _layers(component)]
    if any(type(node.ops) not in (NumpyOps, MatmulOps) for node in layers):
        return False
    for node in layers:
        node.ops = ops
    return True


def _layers(component: object) -> list[Any]:
    model = getattr(component, "model", None)
    return list(model.walk()) if model is not None and hasattr(model, "walk") else []


def single_blas_thread() -> None:
    """One BLAS thread in this process: worker processes already fill the cores, and
    more threads each would only compete for them."""
    from threadpoolctl import threadpool_limits

    # Limits reach only the BLAS libraries already loaded: numpy's is, by this module's import.
    threadpool_limits(limits=1, user_api="blas")
