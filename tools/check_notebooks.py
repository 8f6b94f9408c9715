"""Check that committed notebooks are stored executed and clean.

Usage::

    python tools/check_notebooks.py notebooks/*.ipynb

A notebook fails when it has no stored outputs, an error output, execution
counts that are not 1..N, a machine path, a memory address, TensorFlow log
lines, a widget stored as its raw text form (``VBox(children=(HTML(value=…``)
instead of the course widgets' placeholder, a "## For instructors" note cell
without the ``instructor`` tag (Voilà hides tagged cells from the audience),
or metadata beyond ``kernelspec``/``language_info``. The test suite runs
these checks over every notebook (``tests/test_notebook_hygiene.py``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MACHINE_PATH = re.compile(
    r"(/work/|/tmp/|/root/|/home/[A-Za-z]|/Users/[A-Za-z]|[A-Z]:\\\\Users|site-packages)"
)
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}|0x[0-9a-fA-F]{8,}")
TF_LOG = re.compile(r"\b[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]|absl::InitializeLog")
#: A widget's raw repr, e.g. ``VBox(children=(HTML(value='<h4 …`` or ``IntSlider(value=3, …``.
RAW_WIDGET = re.compile(r"\b(?:[A-Z]\w*(?:Box|Slider|Button|Buttons|Dropdown|Upload)|HTML|Image|"
                        r"Output|Text|Label)\((?:children|value|description|options|layout)=")
#: The text a course widget stores where a live kernel would draw it (``_CourseWidget``).
WIDGET_PLACEHOLDER = re.compile(
    r"^\[.+: interactive widget, run the cell in JupyterLab or Voilà\]$")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ALLOWED_NB_METADATA = {"kernelspec", "language_info"}
ALLOWED_CELL_METADATA = {"tags", "slideshow"}


def _text_of_outputs(code_cells):
    """Everything a reader sees as text in the outputs (images' base64 data left out)."""
    pieces = []
    for cell in code_cells:
        for out in cell.get("outputs", []):
            pieces.append(json.dumps(out.get("text", "")))
            pieces.append(json.dumps(out.get("evalue", "")))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    pieces.append(json.dumps(value))
    return "\n".join(pieces)


def check_notebook(nb):
    """Return a list of problems found in notebook `nb` (a dict as read from JSON)."""
    problems = []
    code = [
        c for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "".join(c.get("source", "")).strip()
    ]
    if code and not any(c.get("outputs") for c in code):
        problems.append("no outputs stored: commit it executed (Restart & Run All)")
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"execution counts are not 1..N: {counts[:12]}")
    for c in code:
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"stored error output: {out.get('ename')}: {out.get('evalue')}")
            text = "".join(out.get("data", {}).get("text/plain", ""))
            if WIDGET_MIME in out.get("data", {}) and not WIDGET_PLACEHOLDER.match(text):
                problems.append(f"a widget stored without its placeholder: {text[:60]!r}")
    outputs_text = _text_of_outputs(code)
    whole_text = json.dumps([c.get("source", "") for c in nb.get("cells", [])]) + outputs_text
    for name, pattern, text in (
        ("a machine path", MACHINE_PATH, whole_text),
        ("a memory address", MEMORY_ADDRESS, outputs_text),
        ("a TensorFlow log line", TF_LOG, outputs_text),
        ("a raw widget repr", RAW_WIDGET, outputs_text),
    ):
        found = pattern.search(text)
        if found:
            problems.append(f"contains {name}: {found.group(0).strip()!r}")
    for c in nb.get("cells", []):
        if (c.get("cell_type") == "markdown"
                and "".join(c.get("source", "")).startswith("## For instructors")
                and "instructor" not in c.get("metadata", {}).get("tags", [])):
            problems.append("a '## For instructors' note without the 'instructor' tag")
    extra = set(nb.get("metadata", {})) - ALLOWED_NB_METADATA
    if extra:
        problems.append(f"notebook metadata not cleaned: {sorted(extra)}")
    for c in nb.get("cells", []):
        extra = set(c.get("metadata", {})) - ALLOWED_CELL_METADATA
        if extra:
            problems.append(f"cell metadata not cleaned: {sorted(extra)}")
            break
    return problems


def main(argv=None):
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    failed = 0
    for path in paths:
        problems = check_notebook(json.loads(path.read_text(encoding="utf-8")))
        for problem in problems:
            print(f"{path}: {problem}")
        failed += bool(problems)
    print(f"{len(paths) - failed} clean, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
