"""The README's Python blocks run as written, against a warehouse of the sample article."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, SAMPLE

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_blocks():
    assert BLOCKS, "the README shows the Python API"


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block, tmp_path):
    from newsdesk.flows.ingest import ingest

    (tmp_path / "seeds").mkdir()
    shutil.copy(SAMPLE, tmp_path / "seeds" / SAMPLE.name)
    ingest(seeds=str(tmp_path / "seeds"), warehouse=str(tmp_path / "warehouse"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "a README block should show something"
