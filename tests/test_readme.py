"""The README's quick start runs as written and learns."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_quick_start_runs_and_learns(capsys):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no python block"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    accuracy = float(out.split()[0])
    assert accuracy >= 0.93, out
    assert "OK" in out  # the gradient check's verdict
