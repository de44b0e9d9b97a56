"""Synthetic news corpora from real paragraphs, for measuring cost against corpus size.

Each file is a headline line and paragraphs drawn from the BBC corpus (default
../shared/corpora/bbc): an article's worth (as many paragraphs as a real article
drawn at random has) or, with --one-paragraph, a single paragraph. Files are
written 1,000 to a folder. The same --seed gives the same corpus. The text stays
in the output folder you name: it is never copied into the project.

    .venv/bin/python bench/synth.py OUT --files 10000 [--one-paragraph] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdesk.extraction.parse import ParseError, parse_article  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc"
PER_FOLDER = 1000


def articles(corpus: Path) -> list[list[str]]:
    """Every article of the corpus as its list of paragraphs (headline first)."""
    out = []
    for path in sorted(corpus.rglob("*.txt")):
        try:
            text = parse_article(path.read_bytes()).text
        except ParseError:
            continue
        paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
        if len(paragraphs) >= 2:
            out.append(paragraphs)
    return out


def synthetic(source: list[list[str]], count: int, one_paragraph: bool, seed: int) -> Iterator[str]:
    """`count` article texts: a real headline, then paragraphs from anywhere in the corpus."""
    rng = random.Random(seed)
    bodies = [p for article in source for p in article[1:]]
    for _ in range(count):
        shape = rng.choice(source)
        length = 1 if one_paragraph else len(shape) - 1
        yield "\n\n".join([shape[0], *rng.sample(bodies, length)]) + "\n"


def write_corpus(
    out: Path, count: int, one_paragraph: bool = False, seed: int = 1, corpus: Path = DEFAULT_CORPUS
) -> int:
    """Write the corpus into `out` (made if missing); returns the number of files."""
    source = articles(corpus)
    if not source:
        raise SystemExit(f"no articles under {corpus}")
    for number, text in enumerate(synthetic(source, count, one_paragraph, seed)):
        folder = out / f"{number // PER_FOLDER:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:07d}.txt").write_text(text, encoding="utf-8")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--one-paragraph", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    written = write_corpus(args.out, args.files, args.one_paragraph, args.seed, args.corpus)
    print(f"{written} files in {args.out}")


if __name__ == "__main__":
    main()
