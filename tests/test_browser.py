"""The instructor dashboard in a real browser: JupyterLab and Voilà, headless Chromium.

``test_dashboard_in_jupyterlab`` starts JupyterLab on a loopback port with a random
token, runs ``notebooks/instructor_dashboard.ipynb`` and, in that one session:
checks that the seven widgets render as controls (not as their text repr), moves
sliders with the keyboard, clicks buttons and checks the numbers shown; times a
redraw of every widget (median of 6 control changes, at most 250 ms); checks that a
typo in the stepper's kernel keeps the drawing and the layout; measures the WCAG
contrast of the stepper's and pooling grids' numbers and captions in the light and
the dark theme (at least 4.5:1); checks that Presentation Mode enlarges the widgets'
text; and at 1280×720, 100% and 150% zoom, that no widget overflows, no picture
is 0 px wide or cut off and no button label is cut.

``test_class_in_voila`` serves the dashboard with Voilà as a class would (the
course's ``voila.json``: instructor notes hidden, idle kernels culled), opens
``VOILA_CLASS_SIZE`` pages at once (3 by default), measures each visitor's kernel
memory, closes all pages but one and checks that their kernels are culled while
the open page keeps working.

Screenshots go to pytest's temporary folder (and to ``images/`` when
``UPDATE_SCREENSHOTS=1``); with ``WIDGET_SCREENSHOT_DIR`` set, every widget is also
photographed at 1280×720 in the light theme at 100% and 150% zoom and in the dark
theme, and the measurements are written there as JSON. Servers and their kernels
are stopped even when a test fails.

Needs Debian's ``chromium`` (Playwright's own browser download is not used):
without it the tests are skipped, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from browser_utils import (
    CONTRAST_JS,
    LAYOUT_JS,
    REDRAW_ARM_JS,
    ROOT,
    kernel_memory,
    launched_chromium,
    random_token,
    start_jupyterlab,
    start_voila,
)

NOTEBOOK = ROOT / "notebooks" / "instructor_dashboard.ipynb"
WIDGET_COUNT = 7
WIDGET_NAMES = ["convolution_stepper", "filter_explorer", "stride_padding_explorer",
                "activation_explorer", "pooling_explorer", "prediction_explorer",
                "feature_map_explorer"]
RUN_TIMEOUT_MS = 180_000  # kernel start + TensorFlow import + model loading, on 2 slow cores
VIEWPORT = {"width": 1280, "height": 720}
REDRAW_LIMIT_MS = 250
MIN_CONTRAST = 4.5
CLASS_SIZE = int(os.environ.get("VOILA_CLASS_SIZE", "3"))
#: Text of the dashboard's instructor notes, which Voilà must not show to the class.
INSTRUCTOR_NOTES = ("How to present it", "Before each click on", "After the session")


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def seed_model(request):
    """Make sure the dashboard's model exists before a server starts its kernel.

    The kernels inherit quick mode from conftest.py, so the dashboard loads
    ``models/seed_cnn_quick.keras``; in a fresh clone we train that stand-in here
    (about 30 s) instead of inside the browser test's time budget.
    """
    from cifar_helpers.config import model_path

    paths = [model_path("seed_cnn"), model_path("seed_cnn", quick=True)]
    if not any(path.is_file() for path in paths):
        folder = request.getfixturevalue("cifar10_dir")  # skips (or fails on CI) without it
        code = ("from cifar_helpers.pretrained import load_or_train_seed_model; "
                "load_or_train_seed_model(verbose=False)")
        env = {**os.environ, "CIFAR10_DIR": str(folder)}
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=600)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        yield context.new_page()
    finally:
        context.close()


# -- helpers -----------------------------------------------------------------------------------
def save_screenshot(page, tmp_path, name):
    target = tmp_path / name
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(target, ROOT / "images" / name)
    return target


def shots_folder():
    """``WIDGET_SCREENSHOT_DIR`` as a folder (created), or None when it is not set."""
    folder = os.environ.get("WIDGET_SCREENSHOT_DIR")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


def record(name, values):
    """Print a measurement (shown with ``pytest -s``) and keep it in WIDGET_SCREENSHOT_DIR."""
    print(f"{name}: {json.dumps(values)}")
    folder = shots_folder()
    if folder is not None:
        (folder / f"{name}.json").write_text(json.dumps(values, indent=1) + "\n")


def photograph_widgets(page, label, session=None):
    """One 1280×720 screenshot per widget, scrolled to the top, into WIDGET_SCREENSHOT_DIR.

    With a CDP `session` that emulates a zoom, the screenshot is taken through it:
    Playwright's own screenshot would reset the emulated device first.
    """
    folder = shots_folder()
    if folder is None:
        return
    widgets = page.locator(".cifar-widget")
    for index, name in enumerate(WIDGET_NAMES):
        widgets.nth(index).evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(150)
        path = folder / f"{label}_{index + 1}_{name}.png"
        if session is None:
            page.screenshot(path=str(path))
        else:
            data = session.send("Page.captureScreenshot", {"format": "png"})["data"]
            path.write_bytes(base64.b64decode(data))


_DASHBOARD_STATE = f"""() => {{
    const readouts = [...document.querySelectorAll('.cifar-widget .cifar-readout')];
    const text = document.body ? document.body.innerText : '';  // null until the page loads
    const failure = text.match(
        /(Traceback|There was an error when executing cell|Error displaying widget)[^]{{0,600}}/);
    return {{
        ready: readouts.length >= {WIDGET_COUNT}
               && readouts.every(element => element.textContent.trim().length > 0),
        failure: failure ? failure[0] : null,
    }};
}}"""


def wait_for_widgets(page, timeout=RUN_TIMEOUT_MS):
    """Wait until every widget shows its readout; fail at once if a cell fails."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        state = page.evaluate(_DASHBOARD_STATE)
        if state["failure"]:
            raise AssertionError(f"the dashboard notebook failed:\n{state['failure']}")
        if state["ready"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"the {WIDGET_COUNT} widgets did not appear within {timeout / 1000:.0f} s")


def readout(widget):
    return widget.locator(".cifar-readout").inner_text().replace("\xa0", " ")


def wait_for(condition, what, timeout=15):
    """Poll `condition()` until it is true (the kernel answers asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_readout(widget, text, timeout=15):
    """Wait until the widget's readout starts with `text`."""
    try:
        wait_for(lambda: readout(widget).startswith(text), text, timeout)
    except AssertionError:
        raise AssertionError(f"readout is {readout(widget)!r}, expected {text!r}") from None


def expects_stand_in():
    """Whether the dashboard's kernel will load the stand-in model (its name is in its file)."""
    from cifar_helpers.config import model_path
    from cifar_helpers.pretrained import STAND_IN_NAME

    path = model_path("seed_cnn")
    if not path.is_file():
        path = model_path("seed_cnn", quick=True)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return config.get("config", {}).get("name") == STAND_IN_NAME


def check_dashboard(page):
    """The widgets are real controls, and they answer clicks and key presses correctly."""
    widgets = page.locator(".cifar-widget")
    assert widgets.count() == WIDGET_COUNT
    body = page.locator("body").inner_text()
    assert "VBox(children=" not in body and "Error displaying widget" not in body
    assert "Traceback" not in body
    assert page.locator(".jupyter-widgets").count() > 50
    assert page.locator(".widget-slider").count() >= 10
    assert page.locator(".cifar-message").all_inner_texts() == [""] * WIDGET_COUNT

    stepper = widgets.nth(0)
    stepper.scroll_into_view_if_needed()
    wait_for_readout(stepper, "step 1 of 9: output[0, 0] = 4")
    stepper.get_by_role("button", name="Next ▶").click()
    wait_for_readout(stepper, "step 2 of 9: output[0, 1] = 3")
    handle = stepper.locator(".cifar-step .noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    wait_for_readout(stepper, "step 3 of 9: output[0, 2] = 4")
    handle.press("End")
    wait_for_readout(stepper, "step 9 of 9: output[2, 2] = 4")
    stepper.get_by_role("button", name="◀ Previous").click()
    wait_for_readout(stepper, "step 8 of 9: output[2, 1] = 3")
    # output cells filled so far in the output table: 4 3 4 / 2 4 3 / 2 3
    assert "4\t3\t4\n2\t4\t3\n2\t3" in stepper.locator("table").nth(2).inner_text()

    pooling = widgets.nth(4)
    pooling.scroll_into_view_if_needed()
    pooling.get_by_role("button", name="average").click()
    wait_for_readout(pooling, "average pooling, pool_size 2, strides 2, padding 'valid': "
                              "6×6 → 3×3; output[0, 0] = 3.5")

    prediction = widgets.nth(5)
    assert " → " in readout(prediction) and "%" in readout(prediction)
    assert prediction.locator(".widget-upload").count() == 1
    stand_in = expects_stand_in()
    for widget in (prediction, widgets.nth(6)):  # a stand-in's guesses are labelled as such
        assert ("Stand-in model, 1 epoch on 1,000 images" in widget.inner_text()) == stand_in
    assert readout(prediction).endswith("stand-in model: near chance") == stand_in
    feature_maps = widgets.nth(6)
    assert "feature maps" in readout(feature_maps)
    stepper.scroll_into_view_if_needed()


def check_bad_input_keeps_the_drawing(page):
    """A typo in the stepper's kernel: the message appears beside the last valid drawing,
    and nothing moves (no blanked grids, no jump of the page)."""
    stepper = page.locator(".cifar-widget").nth(0)
    stepper.scroll_into_view_if_needed()
    tables = stepper.locator("table").all_inner_texts()
    before = stepper.bounding_box()
    kernel = stepper.locator("input[type=text]").first
    kernel.fill("1 0 1; 0 x 0; 1 0 1")
    kernel.press("Enter")
    message = stepper.locator(".cifar-message")
    wait_for(lambda: "row 2, column 2" in message.inner_text(), "the typo's message")
    after = stepper.bounding_box()
    assert stepper.locator("table").all_inner_texts() == tables
    assert abs(after["y"] - before["y"]) <= 1 and abs(after["height"] - before["height"]) <= 1
    stepper.locator("select").first.select_option(label="tutorial kernel")
    wait_for(lambda: message.inner_text().strip() == "", "the message to go")


def check_slider_range_follows(page):
    """After a padding change, End on the window slider reaches the new last window."""
    strides = page.locator(".cifar-widget").nth(2)
    strides.scroll_into_view_if_needed()
    strides.locator("select").first.select_option(label="same")
    wait_for_readout(strides, "output size: ⌈7 / 2⌉ = 4 → 4×4")
    handle = strides.locator(".noUi-handle").last
    handle.focus()
    handle.press("End")
    wait_for(lambda: "window 16 of 16" in readout(strides), "window 16 of 16")


def check_upload_names_the_photo(page):
    """An uploaded photo is predicted, and the sample list names it."""
    prediction = page.locator(".cifar-widget").nth(5)
    prediction.scroll_into_view_if_needed()
    with page.expect_file_chooser() as chooser:  # the Upload button opens a file dialog
        prediction.locator(".widget-upload").click()
    chooser.value.set_files(str(ROOT / "images" / "cat_2.png"))
    wait_for_readout(prediction, "cat_2.png → ")
    chosen = prediction.locator("select").first.evaluate(
        "select => select.options[select.selectedIndex].textContent")
    assert chosen.replace("\xa0", " ") == "uploaded: cat_2.png"


def _redraw_actions(page):
    """widget index -> function(k) that changes one control of that widget (the k-th time)."""
    widgets = page.locator(".cifar-widget")

    def choose(index, nth):
        select = widgets.nth(index).locator("select").nth(nth)
        labels = [text for text in select.locator("option").all_inner_texts()
                  if text != "custom"]  # choosing "custom" alone changes nothing
        return lambda k: select.select_option(label=labels[(k + 1) % len(labels)])

    def press(index, cycle):
        return lambda k: widgets.nth(index).get_by_role(
            "button", name=cycle[k % len(cycle)], exact=True).click()

    def arrow(index):
        def move(_k):
            handle = widgets.nth(index).locator(".noUi-handle").last
            handle.focus()
            handle.press("ArrowRight" if _k < 5 else "Home")
        return move

    return {0: press(0, ["◀ Previous", "Next ▶"]), 1: choose(1, 1), 2: arrow(2),
            3: press(3, ["tanh", "sigmoid", "relu"]), 4: press(4, ["sum", "max", "average"]),
            5: choose(5, 0), 6: choose(6, 1)}


def measure_redraws(page, repeats=6):
    """Median milliseconds from a control change to the redrawn widget, per widget."""
    medians = {}
    for index, action in _redraw_actions(page).items():
        page.locator(".cifar-widget").nth(index).scroll_into_view_if_needed()
        times = []
        for k in range(repeats):
            page.evaluate(REDRAW_ARM_JS, index)
            action(k)
            page.wait_for_function("() => window.__redraw.ms !== null", timeout=20_000)
            times.append(page.evaluate("() => window.__redraw.ms"))
        medians[WIDGET_NAMES[index]] = round(statistics.median(times))
    return medians


def check_contrast(page, theme):
    worst = page.evaluate(CONTRAST_JS, [0, 4])  # the stepper and the pooling explorer
    assert worst["count"] > 50, worst
    assert worst["ratio"] >= MIN_CONTRAST, f"{theme} theme: {worst}"
    return round(worst["ratio"], 2)


def set_theme(page, name, light):
    page.evaluate("name => window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: name})", name)
    page.wait_for_function("light => document.body.dataset.jpThemeLight === light",
                           arg="true" if light else "false", timeout=30_000)
    page.wait_for_timeout(500)


def cell_font_px(page):
    return page.locator(".cifar-widget").nth(0).locator("td").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")


def check_presentation_mode(page):
    """Presentation Mode enlarges the notebook's text, and the widgets' text with it."""
    normal = cell_font_px(page)
    page.evaluate("() => window.jupyterapp.commands.execute("
                  "'application:toggle-presentation-mode')")
    try:
        wait_for(lambda: cell_font_px(page) > normal, "larger text in Presentation Mode", 10)
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute("
                      "'application:toggle-presentation-mode')")
    wait_for(lambda: cell_font_px(page) == normal, "the normal text size again", 10)


def check_zoom(page, zoom):
    """The page as a browser zoomed to `zoom` shows it on a 1280×720 screen: nothing cut off."""
    session = page.context.new_cdp_session(page)
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    session.send("Emulation.setDeviceMetricsOverride", {
        "width": round(width / zoom), "height": round(height / zoom),
        "deviceScaleFactor": zoom, "mobile": False})
    page.wait_for_timeout(800)  # JupyterLab lays out again after the resize
    problems = page.evaluate(LAYOUT_JS)
    assert page.evaluate("() => [innerWidth, devicePixelRatio]") == [round(width / zoom), zoom]
    photograph_widgets(page, f"light_{round(zoom * 100)}", session)
    session.send("Emulation.clearDeviceMetricsOverride")
    session.detach()
    page.set_viewport_size(VIEWPORT)
    assert problems == [], f"at {zoom:.0%} zoom: {problems}"


# -- tests -------------------------------------------------------------------------------------
def test_dashboard_in_jupyterlab(chromium, seed_model, page, tmp_path):
    # Serve a copy, so that nothing the browser does can touch the committed notebook.
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    token = random_token()
    server = start_jupyterlab(root, tmp_path, token)
    try:
        server.wait_until_up(f"{server.url}/api/status?token={token}")
        page.goto(f"{server.url}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=90_000)
        # close the file browser, for a wider notebook (and screenshot)
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        wait_for_widgets(page)
        check_dashboard(page)
        save_screenshot(page, tmp_path, "dashboard_jupyterlab.png")
        redraws = measure_redraws(page)
        record("redraw_ms_median", redraws)
        assert max(redraws.values()) <= REDRAW_LIMIT_MS, redraws
        check_bad_input_keeps_the_drawing(page)
        check_slider_range_follows(page)
        check_upload_names_the_photo(page)
        contrast = {"light": check_contrast(page, "light")}
        check_presentation_mode(page)
        check_zoom(page, 1.0)
        check_zoom(page, 1.5)
        set_theme(page, "JupyterLab Dark", light=False)
        contrast["dark"] = check_contrast(page, "dark")
        record("contrast_lowest", contrast)
        photograph_widgets(page, "dark_100")
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        print(server.log())
        raise
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_class_in_voila(chromium, seed_model, tmp_path):
    """A class served from one machine: the course's voila.json, kernels culled when idle."""
    token = random_token()
    server = start_voila(NOTEBOOK, tmp_path, token,
                         # the class recipe's culling, with short times for the test (not
                         # much shorter: a kernel whose page has not connected yet is idle too)
                         "--MappingKernelManager.cull_idle_timeout=30",
                         "--MappingKernelManager.cull_interval=2")
    contexts = [chromium.new_context(viewport=VIEWPORT, device_scale_factor=1)
                for _ in range(CLASS_SIZE)]
    pages = [context.new_page() for context in contexts]
    try:
        server.wait_until_up(f"{server.url}/voila/static/voila.js?token={token}")
        start = time.monotonic()
        for visitor in pages:  # everyone opens the page at once
            visitor.goto(f"{server.url}/?token={token}", wait_until="commit",
                         timeout=RUN_TIMEOUT_MS)
        ready = []
        for visitor in pages:
            wait_for_widgets(visitor)
            ready.append(round(time.monotonic() - start, 1))
        memory = kernel_memory(server)
        assert len(memory) == CLASS_SIZE, memory
        page = pages[0]
        body = page.locator("body").inner_text()
        assert "widgets.convolution_stepper()" not in body
        assert not [note for note in INSTRUCTOR_NOTES if note in body]  # hidden by voila.json
        check_dashboard(page)
        # the screenshot shows the network's widgets (the JupyterLab one shows the stepper)
        page.locator(".cifar-widget").nth(5).evaluate("e => e.scrollIntoView({block: 'start'})")
        save_screenshot(page, tmp_path, "dashboard_voila.png")
        for context in contexts[1:]:  # everyone but one leaves
            context.close()
        closed = time.monotonic()
        wait_for(lambda: len(kernel_memory(server)) == 1, "the idle kernels to be culled", 120)
        culled_after = round(time.monotonic() - closed, 1)
        stepper = page.locator(".cifar-widget").nth(0)  # the open page still works
        stepper.scroll_into_view_if_needed()
        stepper.get_by_role("button", name="Next ▶").click()
        wait_for_readout(stepper, "step 9 of 9")
        columns = zip(*memory.values(), strict=True)
        rss, uss, pss = (round(statistics.mean(values)) for values in columns)
        record("voila_class", {"visitors": CLASS_SIZE, "ready_s": ready,
                               "kernel_mib_rss_uss_pss": [rss, uss, pss],
                               "culled_after_s": culled_after})
    except Exception:
        pages[0].screenshot(path=str(tmp_path / "failure.png"))
        print(server.log())
        raise
    finally:
        for context in contexts:
            context.close()
        server.stop()
    assert server.process.poll() is not None
