"""The course website (``tools/build_site.py``), built once and read in headless Chromium.

The site is built once, from a snapshot of the stored notebooks, into pytest's temporary
folder (about 5 s on 2 cores), served by ``http.server`` on a loopback port, and every
notebook page is opened: its images have loaded, its math is typeset by the site's own
MathJax (no raw ``$$``, ``\\frac`` or ``\\sum`` left in the prose), each widget output is
replaced by the note that points to the instructor section, the "download this notebook"
link serves the original ``.ipynb``, every link inside the page leads to a file and section
that exist, and no request fails or goes to another host than 127.0.0.1. The search box,
used on the strides page, finds "stride". Screenshots of a lesson page and of the search
results (1280 × 800) go to pytest's temporary folder, and also to the folder named by
``SITE_SCREENSHOT_DIR`` when it is set.

The browser tests need Debian's ``chromium``: without it they are skipped, except on CI
(``CI`` set), where they fail. The unit tests at the end need neither a browser nor Sphinx.
"""

from __future__ import annotations

import doctest
import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from browser_utils import ROOT, launched_chromium


def _load_build_site():
    path = ROOT / "tools" / "build_site.py"
    spec = importlib.util.spec_from_file_location("build_site", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build_site = _load_build_site()

NOTEBOOKS_DIR = ROOT / "notebooks"
LESSONS, SOLUTIONS = build_site.discover_notebooks(NOTEBOOKS_DIR)
PAGES = {path: f"notebooks/{path.relative_to(NOTEBOOKS_DIR).with_suffix('.html').as_posix()}"
         for path in LESSONS + SOLUTIONS}
# Sphinx 9 deprecations inside sphinx-book-theme and myst-parser: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")

STRIDES = NOTEBOOKS_DIR / "04_strides_and_padding.ipynb"
VIEWPORT = {"width": 1280, "height": 800}
WIDGET_NOTE = build_site.WIDGET_NOTE_TEXT
RAW_TEX = ("$$", "\\frac", "\\sum", "\\(", "\\[")


# -- fixtures ----------------------------------------------------------------------------------
def _require(module, what):
    if importlib.util.find_spec(module) is None:
        reason = f"{what} is not installed (pip install -e \".[docs]\")"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """A snapshot of the notebooks that get a page: what the site is built from and compared
    with, even if someone saves a notebook while the tests run."""
    folder = tmp_path_factory.mktemp("course-notebooks") / "notebooks"
    for path in PAGES:
        target = folder / path.relative_to(NOTEBOOKS_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory, notebooks):
    """The site, built once for this module from the notebooks' snapshot."""
    for module in ("sphinx", "myst_nb", "sphinx_book_theme"):
        _require(module, module)
    outdir = tmp_path_factory.mktemp("course-site") / "site"
    start = time.perf_counter()
    build_site.build_site(outdir, notebooks_dir=notebooks)
    print(f"site built in {time.perf_counter() - start:.1f} s: "
          f"{build_site.folder_size(outdir) / 2**20:.1f} MiB in {outdir}")
    return outdir


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class' name)
        pass


@pytest.fixture(scope="module")
def site_url(site):
    """The site served on a free loopback port by a thread running ``http.server``."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=1)
        try:
            yield context
        finally:
            context.close()


class RequestLog:
    """Every request a page makes, and those that failed or got an HTTP error."""

    def __init__(self, page):
        self.urls, self.failures = [], []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("requestfailed",
                lambda request: self.failures.append(f"{request.url}: {request.failure}"))
        page.on("response", lambda response: response.status >= 400 and self.failures.append(
            f"{response.url}: HTTP {response.status}"))

    def check(self):
        assert self.urls, "no request recorded"
        assert not self.failures, f"requests failed: {self.failures}"
        outside = [url for url in self.urls
                   if urlsplit(url).scheme not in ("data", "blob", "about")
                   and urlsplit(url).hostname != "127.0.0.1"]
        assert not outside, f"requests that leave 127.0.0.1: {outside}"


@pytest.fixture
def open_page(browser, site_url):
    """``open_page(path)``: a new tab on the site's `path`, with its `RequestLog`."""
    pages = []

    def opener(path):
        page = browser.new_page()
        pages.append(page)
        log = RequestLog(page)
        response = page.goto(urljoin(site_url, path), wait_until="load")
        assert response.ok, f"{path}: HTTP {response.status}"
        return page, log

    yield opener
    for page in pages:
        page.close()


# -- page checks -------------------------------------------------------------------------------
_TYPESET_MATH = """async () => {
    const math = () => [...document.querySelectorAll('.math')];
    if (!document.querySelector('script[src*="mathjax"]')) {
        return {math: math().length, typeset: 0, loaded: false};
    }
    const deadline = Date.now() + 30000;
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
        if (Date.now() > deadline) throw new Error('MathJax did not start within 30 s');
        await new Promise(resolve => setTimeout(resolve, 50));
    }
    await MathJax.startup.promise;
    return {math: math().length,
            typeset: math().filter(element => element.querySelector('mjx-container')).length,
            loaded: true};
}"""

# The article's prose: code, outputs and typeset math taken out.
_PROSE = """() => {
    const article = document.querySelector('article') || document.body;
    const copy = article.cloneNode(true);
    copy.querySelectorAll('pre, code, .highlight, mjx-container, script, style')
        .forEach(element => element.remove());
    return copy.textContent;
}"""

_IMAGES = """async () => {
    const images = [...document.images];
    await Promise.all(images.map(image => image.complete ? null : new Promise(resolve => {
        image.addEventListener('load', resolve);
        image.addEventListener('error', resolve);
    })));
    return images.map(image => ({src: image.currentSrc || image.src, width: image.naturalWidth}));
}"""


def stored_counts(notebook_path):
    """Images (stored outputs and markdown images) and widget outputs a notebook has."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    images = widgets = 0
    for cell in notebook["cells"]:
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] == "markdown":
            images += len(re.findall(r"!\[[^\]]*\]\(", source)) + source.count("<img ")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if build_site.WIDGET_VIEW_MIME in data:
                widgets += 1
            elif any(mime.startswith("image/") for mime in data):
                images += 1
    return images, widgets


def check_math(page):
    state = page.evaluate(_TYPESET_MATH)
    assert state["typeset"] == state["math"], f"math not typeset: {state}"
    prose = page.evaluate(_PROSE)
    for raw in RAW_TEX:
        assert raw not in prose, f"raw TeX {raw!r} in the page text: ...{_around(prose, raw)}..."
    return state


def _around(text, needle, width=80):
    index = text.find(needle)
    return text[max(0, index - width): index + width]


def check_images(page, expected):
    images = page.evaluate(_IMAGES)
    broken = [image["src"] for image in images if image["width"] == 0]
    assert not broken, f"images that did not load: {broken}"
    assert len(images) >= expected, f"{len(images)} images shown, the notebook stores {expected}"


def check_links(page, site):
    """Every link in the article to a page of the site leads to a file (and section) there."""
    hrefs = page.eval_on_selector_all("article a[href]", "links => links.map(a => a.href)")
    origin = urlsplit(page.url)
    for href in hrefs:
        parts = urlsplit(href)
        if parts.hostname != origin.hostname or parts.port != origin.port:
            continue
        target = site / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.is_file(), f"{page.url}: link to a missing file: {href}"
        if parts.fragment and target.suffix == ".html":
            html = target.read_text(encoding="utf-8")
            assert f'id="{parts.fragment}"' in html, f"{page.url}: link to a missing section: " \
                                                     f"{href}"


def save_screenshot(page, tmp_path, name):
    target = tmp_path / name
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    folder = os.environ.get("SITE_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(folder) / name)
    return target


# -- the built site ----------------------------------------------------------------------------
def test_site_files(site, notebooks):
    assert (site / "index.html").is_file() and (site / "search.html").is_file()
    assert (site / "searchindex.js").is_file() and (site / "credits.html").is_file()
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert not (site / "_sources").exists()
    for notebook, page in PAGES.items():
        assert (site / page).is_file(), page
        copy = site / Path(page).with_suffix(".ipynb")
        source = notebooks / notebook.relative_to(NOTEBOOKS_DIR)
        assert copy.read_bytes() == source.read_bytes(), f"{copy} is not the notebook"
    assert build_site.find_external_loads(site) == []
    html = (site / PAGES[STRIDES]).read_text(encoding="utf-8")
    assert "NBVAL_IGNORE_OUTPUT" not in html
    assert build_site.WIDGET_VIEW_MIME not in html


@pytest.mark.parametrize("notebook", list(PAGES), ids=lambda path: path.stem)
def test_notebook_page(notebook, notebooks, site, open_page, tmp_path):
    page, log = open_page(PAGES[notebook])
    source = notebooks / notebook.relative_to(NOTEBOOKS_DIR)
    title = build_site.notebook_title(json.loads(source.read_text(encoding="utf-8")))
    assert page.title().startswith(re.sub(r"[`*]", "", title)), page.title()

    images, widgets = stored_counts(source)
    check_images(page, images)
    math = check_math(page)
    notes = page.locator(".widget-note")
    assert notes.count() == widgets
    for text in notes.all_inner_texts():
        assert text.startswith(WIDGET_NOTE)
    for href in notes.locator("a").evaluate_all("links => links.map(a => a.href)"):
        assert urlsplit(href).path.endswith("/index.html") and href.endswith("#for-instructors")

    download = page.locator(".download-notebook a")
    assert download.count() == 1
    response = page.request.get(download.evaluate("a => a.href"))
    assert response.ok and response.body() == source.read_bytes()

    assert page.locator("a.left-prev, a.right-next").count() >= 1, "no previous/next links"
    toc = page.eval_on_selector_all(".bd-docs-nav a[href]", "links => links.map(a => a.href)")
    for other in PAGES.values():
        assert any(urlsplit(href).path.endswith("/" + other) for href in toc), f"{other} not in TOC"
    check_links(page, site)
    if notebook == STRIDES:
        assert math["math"] > 20 and math["loaded"]
        # the first displayed formula, mid-screen, with the text and figure around it
        page.locator("div.math").first.evaluate(
            "element => element.scrollIntoView({block: 'center'})")
        save_screenshot(page, tmp_path, "site_lesson.png")
    log.check()


def test_search_finds_stride(site, open_page, tmp_path):
    page, log = open_page(PAGES[STRIDES])
    page.locator("button.search-button-field:visible").first.click()
    box = page.locator("#pst-search-dialog input[type=search]")
    box.wait_for(state="visible")
    box.fill("stride")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\.html\?q=stride"))
    page.wait_for_function("() => /Search finished/.test("
                           "document.querySelector('#search-results')?.textContent || '')",
                           timeout=30_000)
    results = page.eval_on_selector_all("#search-results ul.search li a",
                                        "links => links.map(a => a.href)")
    assert any(urlsplit(href).path.endswith("/" + PAGES[STRIDES]) for href in results), results
    save_screenshot(page, tmp_path, "site_search.png")
    log.check()


def test_landing_and_credits_pages(site, open_page):
    page, log = open_page("index.html")
    assert page.locator("#for-instructors").count() == 1
    links = page.eval_on_selector_all("article a[href]", "links => links.map(a => a.href)")
    for path in PAGES.values():
        assert any(urlsplit(href).path.endswith("/" + path) for href in links), path
    check_math(page)
    check_images(page, 0)
    check_links(page, site)
    log.check()

    page, log = open_page("credits.html")
    text = page.locator("article").inner_text()
    for needle in ("Krizhevsky", "CIFAR-10", "MIT", "CC BY 4.0", "deer_1.jpg", "MathJax"):
        assert needle in text, needle
    check_links(page, site)
    log.check()


# -- unit tests: no browser, no Sphinx ---------------------------------------------------------
def test_doctests():
    failures, tried = doctest.testmod(build_site)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize(("argv", "message"), [
    ([], "the following arguments are required: OUTDIR"),
    (["out", "--jobs", "0"], "expected a positive integer, received '0'"),
    (["out", "--notebooks", "no/such/folder"], "--notebooks must be a folder"),
])
def test_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        build_site.main(argv)
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


def test_output_dir_errors(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(build_site.SiteError, match="OUTDIR must be a folder, received a file"):
        build_site.check_output_dir(a_file, notebooks)
    with pytest.raises(build_site.SiteError, match="outside the notebooks folder"):
        build_site.check_output_dir(notebooks / "site", notebooks)
    with pytest.raises(build_site.SiteError, match="not empty and was not made by this tool"):
        build_site.check_output_dir(tmp_path, notebooks)
    old_site = tmp_path / "site"
    old_site.mkdir()
    (old_site / "index.html").write_text("old")
    (old_site / build_site.MARKER).write_text("")
    assert build_site.check_output_dir(old_site, notebooks) == old_site.resolve()
    assert build_site.check_output_dir(tmp_path / "new", notebooks) == (tmp_path / "new").resolve()


def test_missing_mathjax_fails_loudly(tmp_path, capsys):
    with pytest.raises(build_site.SiteError, match=r"MathJax not found: expected a MathJax 3 "
                                                   r"folder holding tex-chtml.js"):
        build_site.find_mathjax(tmp_path)
    assert build_site.main([str(tmp_path / "site"), "--mathjax", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "MathJax not found" in err and 'pip install -e ".[docs]"' in err
    assert not (tmp_path / "site").exists()


def test_missing_notebooks_and_titles(tmp_path):
    with pytest.raises(build_site.SiteError, match=r"no notebooks \(\*.ipynb\)"):
        build_site.discover_notebooks(tmp_path)
    notebook = {"cells": [{"cell_type": "markdown", "source": "No heading here."}]}
    with pytest.raises(build_site.SiteError, match="has no markdown heading"):
        build_site.notebook_title(notebook)


def test_landing_page_needs_its_readme_sections():
    with pytest.raises(build_site.SiteError, match="README.md has no '## Quick start' section"):
        build_site.landing_page("# Title\n\nIntro.\n\n## Other\n", [], set())


def test_prepare_notebook():
    widget = {"output_type": "execute_result", "execution_count": 2, "metadata": {},
              "data": {build_site.WIDGET_VIEW_MIME: {"model_id": "abc"}, "text/plain": "VBox()"}}
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["# 05 · Title\n", "See [02](02_a.ipynb)."]},
        {"cell_type": "code", "source": "# NBVAL_IGNORE_OUTPUT\nshow()", "outputs": [widget]},
        {"cell_type": "markdown", "source": "[solution](solutions/05_s.ipynb), [x](../x.py)"},
    ]}
    original = json.dumps(notebook)
    known = {"notebooks/02_a.ipynb", "notebooks/solutions/05_s.ipynb"}
    prepared, dropped = build_site.prepare_notebook(notebook, "notebooks/05_b.ipynb", known)
    assert json.dumps(notebook) == original  # the input is not modified
    assert dropped == ["../x.py"]
    first = prepared["cells"][0]["source"]
    assert first.startswith("# 05 · Title\n") and 'href="05_b.ipynb" download' in first
    assert "[02](02_a.ipynb)" in first
    code = prepared["cells"][1]
    assert code["source"] == "show()"
    data = code["outputs"][0]["data"]
    assert build_site.WIDGET_VIEW_MIME not in data
    assert WIDGET_NOTE in re.sub(r"<[^>]+>", "", data["text/html"])
    assert 'href="../index.html#for-instructors"' in data["text/html"]
    assert prepared["cells"][2]["source"] == "[solution](solutions/05_s.ipynb), x"
