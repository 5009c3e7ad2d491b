"""docs/course.md stays true: every python snippet runs, every quoted source line is where the page
says, and every demo is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from axon.demos import DEMOS

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "course.md"
TEXT = DOC.read_text(encoding="utf-8")

SNIPPETS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
#: [path:LINE](../src/axon/...#LLINE) `fragment`: the fragment must be on that line of that file.
REFERENCES = re.findall(r"\[([\w/.]+):(\d+)\]\(\.\./(src/axon/[\w/.]+)#L(\d+)\)\s+`([^`]+)`", TEXT)


def _heading_of(snippet: str) -> str:
    before = TEXT[:TEXT.index(snippet)]
    headings = re.findall(r"^## (.+)$", before, flags=re.M)
    return headings[-1] if headings else "top"


def test_the_page_has_snippets_and_references():
    assert len(SNIPPETS) >= 15
    assert len(REFERENCES) >= 15


@pytest.mark.parametrize("index", range(len(SNIPPETS)),
                         ids=[f"{i}-{_heading_of(s)[:30]}" for i, s in enumerate(SNIPPETS)])
def test_snippet_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    code = compile(SNIPPETS[index], f"docs/course.md snippet {index} ({_heading_of(SNIPPETS[index])})", "exec")
    exec(code, {"__name__": f"course_snippet_{index}"})


@pytest.mark.parametrize("label, line, path, anchor, fragment", REFERENCES,
                         ids=[f"{r[0]}:{r[1]}" for r in REFERENCES])
def test_reference_points_at_the_quoted_line(label, line, path, anchor, fragment):
    assert line == anchor, f"link text says line {line} but the anchor says #L{anchor}"
    assert path.endswith(label), f"link text {label!r} does not name {path!r}"
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    n = int(line)
    if n <= len(lines) and fragment in lines[n - 1]:
        return
    found = [i + 1 for i, text in enumerate(lines) if fragment in text]
    pytest.fail(f"docs/course.md says {path}:{n} holds `{fragment}`, but it is at line(s) {found or 'nowhere'}: "
                f"update the reference")


def test_every_demo_is_described():
    for name in DEMOS:
        assert f"`{name}`" in TEXT, name


def test_no_text_file_holds_a_merge_conflict():
    # A merge once left both sides of a conflict in this page; every line reference still resolved.
    marker = re.compile(r"^(<{7} |={7}$|>{7} )", flags=re.M)
    files = [*REPO.glob("*.md"), *(REPO / "docs").rglob("*.md"), *(REPO / "src").rglob("*.py"),
             *(REPO / "tests").rglob("*.py"), *(REPO / "bench").glob("*.py"), *(REPO / "examples").glob("*.py")]
    bad = [str(f.relative_to(REPO)) for f in files if marker.search(f.read_text(encoding="utf-8"))]
    assert not bad, f"merge-conflict markers in {bad}"
