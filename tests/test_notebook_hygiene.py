"""Every committed notebook is stored executed and clean (tools/check_notebooks.py)."""

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from check_notebooks import check_notebook  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))


ALL = NOTEBOOKS + SOLUTIONS


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(ROOT / "notebooks")) for p in ALL])
def test_committed_notebook_is_clean(path):
    assert check_notebook(json.loads(path.read_text(encoding="utf-8"))) == []


def test_numbered_lessons_exist_and_close_with_summary_and_exercises():
    lessons = [p for p in NOTEBOOKS if p.name[:2].isdigit()]
    assert lessons, "no numbered notebooks found"
    for path in lessons:
        headings = [
            line.strip()
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines()
        ]
        assert "## Summary" in headings and "## Exercises" in headings, path.name


def _cell_output_text(cell):
    texts = []
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        texts.append("".join(text))
    return "".join(texts)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2].isdigit()],
                         ids=lambda p: p.name)
def test_lessons_never_store_a_solved_exercise(path):
    # After "## Exercises", a lesson's cells wait for the student: no check says "Correct".
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    start = next(i for i, cell in enumerate(cells)
                 if cell["cell_type"] == "markdown" and "## Exercises" in "".join(cell["source"]))
    solved = [i for i, cell in enumerate(cells[start:], start)
              if cell["cell_type"] == "code" and "Correct" in _cell_output_text(cell)]
    assert solved == [], f"{path.name}: cells {solved} show a solved exercise"


def test_every_lesson_with_exercises_has_worked_solutions():
    lessons = {p.name for p in NOTEBOOKS if p.name[:2].isdigit()}
    missing = sorted(lessons - {p.name for p in SOLUTIONS})
    assert missing == [], f"no notebooks/solutions/ for {missing}"


GOOD = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "1 + 1",
         "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {"text/plain": "2"}}]},
        {"cell_type": "code", "execution_count": 2, "metadata": {"tags": ["x"]},
         "source": "print('hi')",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]},
    ],
    "metadata": {"kernelspec": {"name": "python3"}, "language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _broken(change):
    nb = copy.deepcopy(GOOD)
    change(nb)
    return nb


def test_checker_accepts_a_clean_notebook():
    assert check_notebook(GOOD) == []


def test_checker_accepts_a_course_widget_placeholder():
    def with_widget(nb):
        nb["cells"][1]["outputs"][0]["data"] = {
            "application/vnd.jupyter.widget-view+json": {"model_id": "ab12", "version_major": 2,
                                                         "version_minor": 0},
            "text/plain": ["[Pooling: interactive widget, run the cell in JupyterLab or Voilà]"],
        }

    assert check_notebook(_broken(with_widget)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda nb: [c.update(outputs=[]) for c in nb["cells"][1:]], "no outputs stored"),
        (lambda nb: nb["cells"][2].update(execution_count=5), r"not 1..N: \[1, 5\]"),
        (lambda nb: nb["cells"][2].update(execution_count=None), r"not 1..N: \[1, None\]"),
        (lambda nb: nb["cells"][2]["outputs"].append(
            {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "x", "traceback": []}),
         "stored error output: ZeroDivisionError"),
        (lambda nb: nb["cells"][2]["outputs"][0].update(text="/home/alice/course/data\n"),
         "machine path"),
        (lambda nb: nb["cells"][2]["outputs"][0].update(text="/work/main/x\n"), "machine path"),
        (lambda nb: nb["cells"][1]["outputs"][0]["data"].update(
            {"text/plain": "<Figure at 0x7f3a2c1d9e50>"}), "memory address"),
        (lambda nb: nb["cells"][2]["outputs"][0].update(
            text="I0000 00:00:1795598008.855332    4588 port.cc:153] oneDNN\n"),
         "TensorFlow log line"),
        (lambda nb: nb["cells"][1]["outputs"][0]["data"].update(
            {"text/plain": "VBox(children=(HTML(value='<h4 style=…"}), "a raw widget repr"),
        (lambda nb: nb["cells"][2]["outputs"][0].update(
            text="IntSlider(value=3, description='top_k', max=10, min=1)\n"), "a raw widget repr"),
        (lambda nb: nb["cells"][1]["outputs"][0]["data"].update(
            {"application/vnd.jupyter.widget-view+json": {"model_id": "ab12"},
             "text/plain": "a widget"}), "a widget stored without its placeholder"),
        (lambda nb: nb["cells"][0].update(source="## For instructors\n\nShow it live."),
         "'## For instructors' note without the 'instructor' tag"),
        (lambda nb: nb["metadata"].update(widgets={}), r"notebook metadata not cleaned"),
        (lambda nb: nb["cells"][1]["metadata"].update(execution={}), "cell metadata not cleaned"),
    ],
)
def test_checker_catches(change, message):
    problems = check_notebook(_broken(change))
    assert any(__import__("re").search(message, p) for p in problems), problems
