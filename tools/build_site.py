"""Build the course as a static website, offline, from the stored notebooks.

Usage::

    python tools/build_site.py OUTDIR [--notebooks DIR] [--mathjax DIR] [--jobs N]
                                      [--allow-warnings] [--verbose]
    python -m http.server -d OUTDIR        # then open http://127.0.0.1:8000/

``OUTDIR/index.html`` is a landing page made from the README (its introduction and the
sections named in ``LANDING_SECTIONS``), with a table of contents; then one page per
notebook: the numbered lessons in order, the other notebooks of ``notebooks/`` (the
instructor dashboard), and ``notebooks/solutions/``; and a credits page (CIFAR-10, the
licence, ``images/CREDITS.md``). Pages are discovered by globbing, so a new or renamed
notebook needs no change here.

The notebooks are never executed: Sphinx with MyST-NB (``nb_execution_mode = "off"``) and
the book theme renders each one's stored outputs, math and figures. The configuration is
``docs/site/conf.py``. Everything happens in a temporary staging folder, which holds:

- copies of the notebooks in which an interactive widget's output (which needs a live
  kernel) is replaced by a note that says so and links to the README's instructor section,
  the ``# NBVAL_IGNORE_OUTPUT`` markers (meant for the test harness) are cut from the
  code, a "download this notebook" link follows the title, and relative links to files
  that are not on the site (``../cifar_helpers/data.py``) are turned into plain text;
- the generated ``index.md`` and ``credits.md``, and the photos of ``images/``;
- MathJax 3 (scripts and fonts) from the ``sphinx-mathjax-offline`` package, so that the
  site loads nothing from a CDN.

Each original ``.ipynb`` is copied next to its page (the download link's target). The build
fails, saying what is missing and how to install it, when Sphinx, MyST-NB, the theme or
MathJax cannot be found, and it fails when a page loads anything from another host.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
import posixpath
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "docs" / "site"
INSTALL_HINT = 'pip install -e ".[docs]" (or ".[dev]", which includes it)'

# A file the build leaves in OUTDIR, so that a later build may replace that folder, and
# no other one: `build_site.py .` must never wipe the repository.
MARKER = ".cifar-course-site"

# The README's level-2 sections shown on the landing page, after its introduction. The
# second item says whether to keep the section's ### subsections.
LANDING_SECTIONS = (("Quick start", True), ("The notebooks", False), ("For instructors", True))
INSTRUCTOR_SECTION = "For instructors"
INSTRUCTOR_ANCHOR = "for-instructors"  # the id Sphinx gives that section's heading

# Where a link to a repository file that is not a page should point on the site.
LINK_ALIASES = {
    "README.md": "index.md",
    "LICENSE": "credits.md",
    "images/CREDITS.md": "credits.md",
}

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE_TEXT = "Interactive: run this notebook in JupyterLab or Voilà"
NBVAL_MARKER = re.compile(r"^#\s*NBVAL_\w+[^\n]*\n?")

# MathJax 3: the combined TeX-to-CommonHTML component and what it loads at run time (TeX
# extensions, CommonHTML fonts, the context menu, accessibility tools with English speech).
MATHJAX_DISTRIBUTION = "sphinx-mathjax-offline"
MATHJAX_ENTRY = "tex-chtml.js"
MATHJAX_PARTS = (
    "tex-chtml.js",
    "input/tex",
    "output/chtml",
    "ui",
    "a11y",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
)

CIFAR10_CREDIT = """\
The CIFAR-10 dataset: A. Krizhevsky, *Learning Multiple Layers of Features from Tiny Images*,
Technical Report, University of Toronto, 2009.
<https://www.cs.toronto.edu/~kriz/cifar.html>. The dataset is not part of this course or of
this site; the figures made from its images are in the notebooks' stored outputs.
"""

SITE_CREDIT = """\
This site is built with [Sphinx](https://www.sphinx-doc.org/),
[MyST-NB](https://myst-nb.readthedocs.io/) and the
[Sphinx Book Theme](https://sphinx-book-theme.readthedocs.io/) (BSD licences), from the
notebooks' stored outputs. Math is typeset by [MathJax](https://www.mathjax.org/) 3
(Apache License 2.0), served from the site itself.
"""


class SiteError(Exception):
    """The site cannot be built: the message says what is wrong and what to do."""


# -- pure helpers ------------------------------------------------------------------------------
def is_numbered(path):
    """Whether a notebook's file name starts with its lesson number (``04_...``)."""
    return Path(path).name[:1].isdigit()


def page_order(paths):
    """Notebooks in site order: numbered lessons by name, then the others by name.

    Examples
    --------
    >>> [p.name for p in page_order([Path("instructor_dashboard.ipynb"),
    ...                              Path("10_b.ipynb"), Path("02_a.ipynb")])]
    ['02_a.ipynb', '10_b.ipynb', 'instructor_dashboard.ipynb']
    """
    return sorted(paths, key=lambda path: (not is_numbered(path), Path(path).name))


def _unfenced_lines(text):
    """Yield ``(line, in_code)`` for each line (with its end), ``in_code`` inside fences."""
    fence = None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        marker = stripped[:3]
        if fence is None and marker in ("```", "~~~"):
            fence = marker
            yield line, True
        elif fence is not None:
            if stripped.startswith(fence):
                fence = None
            yield line, True
        else:
            yield line, False


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def first_heading(markdown):
    """The text of the first ATX heading outside code fences, or None.

    Examples
    --------
    >>> first_heading("```\\n# not this\\n```\\nIntro.\\n\\n## 04 · Strides\\n")
    '04 · Strides'
    """
    for line, in_code in _unfenced_lines(markdown):
        match = None if in_code else _HEADING.match(line)
        if match:
            return match.group(2)
    return None


def notebook_title(notebook, name="notebook"):
    """A notebook's page title: its first markdown heading.

    Raises
    ------
    SiteError
        If no markdown cell has a heading.
    """
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            title = first_heading(_source(cell))
            if title:
                return title
    raise SiteError(f"{name} has no markdown heading: its first markdown cell should start "
                    "with the lesson's title, e.g. '# 04 · Strides and padding'.")


def markdown_sections(markdown, level=2):
    """Split markdown at headings of `level`: ``(intro, {title: section text})``.

    Each section's text starts with its heading line; headings inside code fences do not
    count.

    Examples
    --------
    >>> intro, sections = markdown_sections("# T\\nhi\\n## A\\na\\n### A1\\nx\\n## B\\nb\\n")
    >>> intro, list(sections), sections["A"]
    ('# T\\nhi\\n', ['A', 'B'], '## A\\na\\n### A1\\nx\\n')
    """
    intro, sections, current = [], {}, None
    for line, in_code in _unfenced_lines(markdown):
        match = None if in_code else _HEADING.match(line)
        if match and len(match.group(1)) == level:
            current = match.group(2)
            sections[current] = []
        (intro if current is None else sections[current]).append(line)
    return "".join(intro), {title: "".join(lines) for title, lines in sections.items()}


def without_subsections(section, level=3):
    """The part of a markdown section before its first heading of `level` or deeper."""
    kept = []
    for line, in_code in _unfenced_lines(section):
        match = None if in_code else _HEADING.match(line)
        if match and len(match.group(1)) >= level:
            break
        kept.append(line)
    return "".join(kept)


def shift_headings(markdown, by=1):
    """Move every ATX heading outside code fences `by` levels down (at most to level 6)."""
    out = []
    for line, in_code in _unfenced_lines(markdown):
        match = None if in_code else _HEADING.match(line)
        if match:
            hashes = "#" * min(6, len(match.group(1)) + by)
            line = f"{hashes} {match.group(2)}\n"
        out.append(line)
    return "".join(out)


_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def rewrite_links(markdown, doc_dir, known, aliases=LINK_ALIASES):
    """Point a page's relative markdown links at the site.

    Parameters
    ----------
    markdown : str
        Markdown text of a page or a notebook cell.
    doc_dir : str
        The page's folder, relative to the site root (``""``, ``"notebooks"``).
    known : set of str
        Site-relative paths that exist on the site (pages' sources and images).
    aliases : dict of str to str
        Site-relative paths of repository files that are not on the site, mapped to the
        page that stands in for them (``"README.md"`` to ``"index.md"``).

    Returns
    -------
    text : str
        The markdown with links rewritten: links to known paths are kept, links to an
        alias point at its page (anchor kept), other relative links become their text.
    dropped : list of str
        The targets of the links turned into text. URLs, ``#anchors`` and images are
        left alone.

    Examples
    --------
    >>> text, dropped = rewrite_links(
    ...     "[02](02_a.ipynb), [setup](../README.md#quick-start), [code](../x/y.py)",
    ...     "notebooks", {"notebooks/02_a.ipynb"})
    >>> text
    '[02](02_a.ipynb), [setup](../index.md#quick-start), code'
    >>> dropped
    ['../x/y.py']
    """
    dropped = []

    def replace(match):
        target = match.group("target")
        if match.group("bang") or target.startswith(("#", "/")) or _SCHEME.match(target):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        site_path = posixpath.normpath(posixpath.join(doc_dir, path))
        if site_path in known:
            return match.group(0)
        if site_path in aliases:
            new_target = posixpath.relpath(aliases[site_path], doc_dir or ".") + hash_ + anchor
            return f"[{match.group('text')}]({new_target})"
        dropped.append(target)
        return match.group("text")

    out = []
    for line, in_code in _unfenced_lines(markdown):
        out.append(line if in_code else _LINK.sub(replace, line))
    return "".join(out), dropped


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def widget_note(doc_dir):
    """HTML that stands in for a widget's output on a page in folder `doc_dir`."""
    index = posixpath.relpath("index.html", doc_dir or ".")
    return (
        '<div class="widget-note"><p><strong>Interactive:</strong> run this notebook in '
        "JupyterLab or Voilà to use this widget (see "
        f'<a href="{index}#{INSTRUCTOR_ANCHOR}">{INSTRUCTOR_SECTION}</a> on the home page).'
        "</p></div>"
    )


def download_link(file_name):
    """An HTML paragraph that links to the notebook file copied next to its page."""
    return (f'<p class="download-notebook"><a href="{file_name}" download>'
            f"Download this notebook ({file_name})</a></p>")


def prepare_notebook(notebook, doc_path, known):
    """The copy of a notebook that the site renders (the input is not modified).

    Parameters
    ----------
    notebook : dict
        The notebook as read from JSON (nbformat 4).
    doc_path : str
        Its site-relative path, e.g. ``"notebooks/04_strides_and_padding.ipynb"``.
    known : set of str
        Site-relative paths that exist on the site (see `rewrite_links`).

    Returns
    -------
    notebook : dict
        A copy in which widget outputs are replaced by `widget_note`, ``# NBVAL_...``
        marker lines are cut from code cells, a `download_link` follows the first
        heading, and markdown links are rewritten by `rewrite_links`.
    dropped : list of str
        Link targets that were turned into text.
    """
    notebook = copy.deepcopy(notebook)
    doc_dir = posixpath.dirname(doc_path)
    file_name = posixpath.basename(doc_path)
    dropped, linked = [], False
    for cell in notebook.get("cells", []):
        source = _source(cell)
        if cell.get("cell_type") == "markdown":
            source, lost = rewrite_links(source, doc_dir, known)
            dropped += lost
            if not linked and first_heading(source):
                source = _insert_after_first_heading(source, download_link(file_name))
                linked = True
            cell["source"] = source
        elif cell.get("cell_type") == "code":
            cell["source"] = NBVAL_MARKER.sub("", source, count=1)
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if WIDGET_VIEW_MIME in data:
                    output["data"] = {
                        "text/html": widget_note(doc_dir),
                        "text/plain": WIDGET_NOTE_TEXT,
                    }
    return notebook, dropped


def _insert_after_first_heading(markdown, html):
    out, done = [], False
    for line, in_code in _unfenced_lines(markdown):
        out.append(line)
        if not done and not in_code and _HEADING.match(line):
            out.append(f"\n{html}\n\n")
            done = True
    return "".join(out)


def toctree(caption, docs):
    """A MyST toctree directive listing `docs` (site-relative, without extension)."""
    lines = ["```{toctree}", f":caption: {caption}", ":maxdepth: 1", "", *docs, "```", ""]
    return "\n".join(lines) + "\n"


def landing_page(readme, toc, known):
    """The site's ``index.md``: the README's introduction, a table of contents, sections.

    Parameters
    ----------
    readme : str
        The README's markdown.
    toc : list of (str, list of str)
        Toctree captions and their documents, in order.
    known : set of str
        Site-relative paths that exist on the site (see `rewrite_links`).

    Raises
    ------
    SiteError
        If the README lacks one of the `LANDING_SECTIONS`.
    """
    intro, sections = markdown_sections(readme)
    parts = [intro.rstrip() + "\n\n", "## Contents\n\n"]
    parts += [toctree(caption, docs) for caption, docs in toc if docs]
    for title, keep_subsections in LANDING_SECTIONS:
        if title not in sections:
            raise SiteError(f"README.md has no '## {title}' section, which the landing page "
                            f"shows (found: {', '.join(map(repr, sections))}). Rename it back "
                            "or change LANDING_SECTIONS in tools/build_site.py.")
        section = sections[title] if keep_subsections else without_subsections(sections[title])
        parts.append("\n" + section.rstrip() + "\n")
    text, _ = rewrite_links("".join(parts), "", known)
    return text


def credits_page(license_text, photo_credits):
    """The site's ``credits.md``: CIFAR-10, the licence (verbatim), the photos' credits."""
    return "\n".join([
        "# Credits and licence",
        "",
        "## CIFAR-10",
        "",
        CIFAR10_CREDIT,
        "## Licence",
        "",
        "Code (the `cifar_helpers` package, tests, tools and the notebooks' code cells): MIT.",
        "Prose and figures (the notebooks' text and stored figures): CC BY 4.0. The photos",
        "keep their own licences (below). The full text of the repository's `LICENSE` file:",
        "",
        "```text",
        license_text.rstrip(),
        "```",
        "",
        shift_headings(photo_credits.rstrip(), by=1),
        "",
        "## This site",
        "",
        SITE_CREDIT,
    ])


# -- file system -------------------------------------------------------------------------------
def discover_notebooks(notebooks_dir):
    """The notebooks that get a page: ``(lessons, solutions)``, each list in `page_order`.

    Raises
    ------
    SiteError
        If `notebooks_dir` holds no ``*.ipynb`` file.
    """
    notebooks_dir = Path(notebooks_dir)
    lessons = page_order(notebooks_dir.glob("*.ipynb"))
    solutions = page_order((notebooks_dir / "solutions").glob("*.ipynb"))
    if not lessons:
        raise SiteError(f"no notebooks (*.ipynb) in {notebooks_dir}: expected the course's "
                        "notebooks folder.")
    return lessons, solutions


def find_mathjax(mathjax_dir=None):
    """The folder of a MathJax 3 distribution that holds ``tex-chtml.js``.

    Parameters
    ----------
    mathjax_dir : path-like, optional
        Use this folder. By default, the one the ``sphinx-mathjax-offline`` package ships.

    Raises
    ------
    SiteError
        If the folder, the package or ``tex-chtml.js`` is missing.
    """
    if mathjax_dir is None:
        try:
            dist = importlib.metadata.distribution(MATHJAX_DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            raise SiteError(
                f"MathJax not found: the site serves MathJax 3 itself (no CDN), from the "
                f"'{MATHJAX_DISTRIBUTION}' package, which is not installed. Install it with "
                f"{INSTALL_HINT}, or pass --mathjax DIR (a MathJax 3 folder holding "
                f"{MATHJAX_ENTRY}).") from None
        entries = [f for f in dist.files or () if PurePosixPath(f).name == MATHJAX_ENTRY]
        if not entries:
            raise SiteError(f"MathJax not found: the '{MATHJAX_DISTRIBUTION}' package has no "
                            f"{MATHJAX_ENTRY}. Reinstall it with {INSTALL_HINT}.")
        mathjax_dir = Path(dist.locate_file(entries[0])).parent
    mathjax_dir = Path(mathjax_dir)
    if not (mathjax_dir / MATHJAX_ENTRY).is_file():
        raise SiteError(f"MathJax not found: expected a MathJax 3 folder holding {MATHJAX_ENTRY},"
                        f" received {mathjax_dir}. Install it with {INSTALL_HINT}.")
    return mathjax_dir


def copy_mathjax(mathjax_dir, destination):
    """Copy the parts of MathJax that the pages load (`MATHJAX_PARTS`) to `destination`."""
    for part in MATHJAX_PARTS:
        source, target = mathjax_dir / part, destination / part
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        elif part == MATHJAX_ENTRY or part.startswith("output"):
            raise SiteError(f"MathJax in {mathjax_dir} is incomplete: {part} is missing. "
                            f"Reinstall it with {INSTALL_HINT}.")


def check_output_dir(outdir, notebooks_dir):
    """Validate OUTDIR: a new or empty folder, or one a previous build made.

    Raises
    ------
    SiteError
        If `outdir` is a file, lies inside the notebooks folder, or is a non-empty folder
        without the `MARKER` file of a previous build (the build replaces the folder).
    """
    outdir, notebooks_dir = Path(outdir).resolve(), Path(notebooks_dir).resolve()
    if outdir.exists() and not outdir.is_dir():
        raise SiteError(f"OUTDIR must be a folder, received a file: {outdir}")
    if outdir == notebooks_dir or notebooks_dir in outdir.parents:
        raise SiteError(f"OUTDIR must be outside the notebooks folder {notebooks_dir}, "
                        f"received {outdir}")
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / MARKER).is_file():
        raise SiteError(f"OUTDIR {outdir} is not empty and was not made by this tool (no "
                        f"{MARKER} file), so it will not be replaced: expected a new or empty "
                        "folder, or a site built before (e.g. `site`).")
    return outdir


_EXTERNAL_LOAD = [
    # HTML attributes that make the browser fetch something
    re.compile(r"<(?:script|img|iframe|audio|video|source|embed)\b[^>]*?\ssrc=[\"']?"
               r"((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*?\shref=[\"']?((?:https?:)?//[^\"'\s>]+)", re.I),
    # CSS
    re.compile(r"url\(\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I),
    re.compile(r"@import\s+[\"']((?:https?:)?//[^\"']+)", re.I),
]
_CDN_HOSTS = re.compile(
    r"(?:https?:)?//(?:fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net|unpkg\.com|"
    r"cdnjs\.cloudflare\.com|use\.fontawesome\.com|code\.jquery\.com|polyfill\.io)[^\"'\s)]*", re.I)


def external_loads(text):
    """URLs on other hosts that an HTML or CSS text loads (links to follow do not count).

    Examples
    --------
    >>> external_loads('<a href="https://example.org">x</a><img src="_images/a.png">')
    []
    >>> external_loads('<script src="https://cdn.jsdelivr.net/npm/mathjax@3"></script>')
    ['https://cdn.jsdelivr.net/npm/mathjax@3']
    """
    found = []
    for pattern in _EXTERNAL_LOAD:
        found += pattern.findall(text)
    return found


def find_external_loads(site_dir):
    """``(file, url)`` for each resource a built page or stylesheet fetches from elsewhere,
    and for each mention of a CDN host in the site's HTML, CSS and JavaScript."""
    site_dir = Path(site_dir)
    problems = []
    for path in sorted(site_dir.rglob("*")):
        # MathJax's bundles name CDN addresses as defaults of its speech engine (used only
        # on Internet Explorer, or when MathJax runs without its own folder); the browser
        # test checks that no page request leaves the site.
        if path.suffix not in {".html", ".css", ".js"} or "mathjax" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        urls = external_loads(text) if path.suffix != ".js" else []
        urls += _CDN_HOSTS.findall(text)
        problems += [(path.relative_to(site_dir).as_posix(), url) for url in dict.fromkeys(urls)]
    return problems


def stage(staging, notebooks_dir, readme, license_text, photo_credits, mathjax_dir):
    """Write the Sphinx project into `staging`; return ``(pages, dropped links)``.

    `pages` maps each original notebook to its site-relative path.
    """
    notebooks_dir = Path(notebooks_dir)
    lessons, solutions = discover_notebooks(notebooks_dir)
    pages = {path: f"notebooks/{path.name}" for path in lessons}
    pages.update({path: f"notebooks/solutions/{path.name}" for path in solutions})

    images_dir = ROOT / "images"
    images = sorted(p for p in images_dir.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    known = set(pages.values()) | {f"images/{p.name}" for p in images}
    known |= {"index.md", "credits.md"}

    shutil.copy(CONF_DIR / "conf.py", staging / "conf.py")
    shutil.copytree(CONF_DIR / "_static", staging / "_static")
    copy_mathjax(mathjax_dir, staging / "_static" / "mathjax")
    (staging / "images").mkdir()
    for image in images:
        shutil.copyfile(image, staging / "images" / image.name)

    dropped = {}
    for source, doc_path in pages.items():
        notebook = json.loads(source.read_text(encoding="utf-8"))
        notebook_title(notebook, name=str(source))
        prepared, lost = prepare_notebook(notebook, doc_path, known)
        if lost:
            dropped[doc_path] = lost
        target = staging / doc_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(prepared, ensure_ascii=False, indent=1), encoding="utf-8")

    toc = [
        ("Lessons", [pages[p][:-len(".ipynb")] for p in lessons]),
        ("Solutions", [pages[p][:-len(".ipynb")] for p in solutions]),
        ("About", ["credits"]),
    ]
    (staging / "index.md").write_text(landing_page(readme, toc, known), encoding="utf-8")
    (staging / "credits.md").write_text(credits_page(license_text, photo_credits),
                                        encoding="utf-8")
    return pages, dropped


def run_sphinx(staging, html_dir, jobs, quiet, strict=True):
    """Run Sphinx's HTML builder on `staging`; raise SiteError if it fails.

    With `strict`, a warning (a link to a missing page or section, a bad heading
    level, an image that is not there) fails the build, after all of them are shown.
    """
    try:
        import myst_nb  # noqa: F401
        import sphinx_book_theme  # noqa: F401
        from sphinx.cmd.build import build_main
    except ImportError as exc:
        raise SiteError(f"the site generator is not installed ({exc.name} is missing): install "
                        f"Sphinx, MyST-NB and sphinx-book-theme with {INSTALL_HINT}.") from None
    args = ["-b", "html", "-j", str(jobs), "-d", str(staging / "_doctrees"),
            str(staging), str(html_dir)]
    if quiet:
        args.insert(0, "-q")
    if strict:
        args[:0] = ["-W", "--keep-going"]
    status = build_main(args)
    if status != 0:
        raise SiteError(f"Sphinx failed (exit status {status}); its warnings and errors are "
                        "above. Fix them (or build with --allow-warnings to look at the site).")


def build_site(outdir, notebooks_dir=ROOT / "notebooks", mathjax_dir=None, jobs=1, quiet=True,
               strict=True):
    """Build the website into `outdir` (see the module docstring); return `outdir`."""
    outdir = check_output_dir(outdir, notebooks_dir)
    mathjax_dir = find_mathjax(mathjax_dir)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    photo_credits = (ROOT / "images" / "CREDITS.md").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="cifar-course-site-") as tmp:
        staging = Path(tmp) / "src"
        staging.mkdir()
        pages, dropped = stage(staging, notebooks_dir, readme, license_text, photo_credits,
                               mathjax_dir)
        for doc_path, targets in dropped.items():
            print(f"note: {doc_path}: links to files that are not on the site shown as text: "
                  f"{', '.join(targets)}", file=sys.stderr)
        html_dir = Path(tmp) / "html"
        run_sphinx(staging, html_dir, jobs, quiet, strict)
        for source, doc_path in pages.items():
            shutil.copyfile(source, html_dir / doc_path)
        for leftover in (".buildinfo", ".buildinfo.bak", ".doctrees", "_sources"):
            target = html_dir / leftover
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        problems = find_external_loads(html_dir)
        if problems:
            listing = "\n".join(f"  {path}: {url}" for path, url in problems[:20])
            raise SiteError("the site would load files from other hosts (it must work "
                            f"offline):\n{listing}")
        (html_dir / MARKER).write_text("Built by tools/build_site.py; the next build "
                                       "replaces this folder.\n")
        if outdir.exists():
            shutil.rmtree(outdir)
        outdir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(html_dir, outdir)
    return outdir


def folder_size(path):
    """Total size in bytes of the files under `path`."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Build the course website (static HTML) from the stored notebooks.",
        epilog="Then: python -m http.server -d OUTDIR")
    parser.add_argument("outdir", metavar="OUTDIR",
                        help="folder for the site (created, or replaced if built before)")
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"), metavar="DIR",
                        help="the notebooks folder (default: the course's notebooks/)")
    parser.add_argument("--mathjax", default=None, metavar="DIR",
                        help="a MathJax 3 folder holding tex-chtml.js (default: the one the "
                             "sphinx-mathjax-offline package ships)")
    parser.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N",
                        help="parallel Sphinx processes (default: 1, as fast as 2 for this "
                             "small site on a 2-core machine)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    parser.add_argument("--allow-warnings", action="store_true",
                        help="build even when Sphinx warns (by default a warning fails the build)")
    args = parser.parse_args(argv)
    if not Path(args.notebooks).is_dir():
        parser.error(f"--notebooks must be a folder, received {args.notebooks!r}")
    return args


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        outdir = build_site(args.outdir, args.notebooks, args.mathjax, args.jobs,
                            quiet=not args.verbose, strict=not args.allow_warnings)
    except SiteError as exc:
        print(f"build_site: error: {exc}", file=sys.stderr)
        return 1
    pages = len(list(outdir.rglob("*.ipynb")))
    print(f"built {pages} notebook pages into {outdir} in {time.perf_counter() - start:.0f} s "
          f"({folder_size(outdir) / 2**20:.1f} MiB); view it with: "
          f"python -m http.server -d {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
