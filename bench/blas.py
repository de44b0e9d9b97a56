"""thinc's blis against numpy's BLAS for spaCy's matrix products, one process.

Loads newsdesk's pipeline twice, once as thinc leaves it (blis) and once with
`extraction/matmul.py` (numpy's BLAS), runs both over the same articles in
alternation (--repeat pairs), checks that tags, parses and entities are identical,
and prints the time ratio. A product of the tok2vec's shape is timed alone too.

    .venv/bin/python bench/blas.py [--articles 400] [--repeat 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import DEFAULT_CORPUS, spread  # noqa: E402

from newsdesk.extraction.matmul import MatmulOps, single_blas_thread  # noqa: E402
from newsdesk.extraction.parse import ParseError, parse_article  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402


def texts(corpus: Path, count: int) -> list[str]:
    out = []
    for path in sorted(corpus.rglob("*.txt")):
        try:
            out.append(parse_article(path.read_bytes()).text)
        except ParseError:
            continue
        if len(out) == count:
            break
    return out


def pipelines(model: str) -> dict:
    """Two copies of the pipeline as newsdesk adapts it, one put back on thinc's blis."""
    import spacy
    from thinc.api import NumpyOps

    from newsdesk.extraction.nlp import adapt_pipeline

    blis, ours = adapt_pipeline(spacy.load(model)), adapt_pipeline(spacy.load(model))
    ops = NumpyOps()
    for _, component in blis.components:
        layers = getattr(component, "model", None)
        for node in layers.walk() if hasattr(layers, "walk") else []:
            node.ops = ops
    return {"blis": blis, "numpy": ours}


def signature(doc) -> tuple:
    return tuple((t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in doc)


def gemm_ms(repeat: int = 20) -> dict[str, float]:
    import numpy
    from thinc.api import NumpyOps

    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((20_000, 288), dtype=numpy.float32)
    y = rng.standard_normal((288, 864), dtype=numpy.float32)
    out = {}
    for name, ops in (("blis", NumpyOps()), ("numpy", MatmulOps())):
        ops.gemm(x, y)
        start = time.perf_counter()
        for _ in range(repeat):
            ops.gemm(x, y)
        out[name] = round(1000 * (time.perf_counter() - start) / repeat, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    single_blas_thread()  # as in an extraction worker
    corpus = texts(args.corpus, args.articles)
    settings = Settings()
    nlps = pipelines(settings.model)
    seconds: dict[str, list[float]] = {"blis": [], "numpy": []}
    outputs: dict[str, list[tuple]] = {}
    for nlp in nlps.values():
        list(nlp.pipe(corpus[:20], batch_size=settings.nlp_batch_size))  # warm up
    for _ in range(args.repeat):
        for name, nlp in nlps.items():
            start = time.perf_counter()
            docs = list(nlp.pipe(corpus, batch_size=settings.nlp_batch_size))
            seconds[name].append(time.perf_counter() - start)
            outputs[name] = [signature(doc) for doc in docs]
    differing = sum(a != b for a, b in zip(outputs["blis"], outputs["numpy"], strict=True))
    ratios = [b / n for b, n in zip(seconds["blis"], seconds["numpy"], strict=True)]
    result = {
        "articles": len(corpus),
        "seconds": {name: [round(s, 2) for s in values] for name, values in seconds.items()},
        "speedup": spread(ratios),
        "articles_differing": differing,
        "gemm_20000x288x864_ms": gemm_ms(),
    }
    print(json.dumps(result, indent=2))
    print(
        f"\nnumpy's BLAS is {result['speedup']['median']:.2f} x as fast as blis over {len(corpus)} articles "
        f"(min {result['speedup']['min']:.2f}, max {result['speedup']['max']:.2f}); "
        f"{differing} articles differ in tags, parses or entities"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
