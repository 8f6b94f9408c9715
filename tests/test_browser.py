"""The instructor dashboard in a real browser: JupyterLab and Voilà, headless Chromium.

Each test starts a server on a loopback port with a random token, opens
``notebooks/instructor_dashboard.ipynb``, waits for the seven widgets, checks that
they render as controls (not as their text repr), moves a slider with the
keyboard / clicks buttons, and checks the numbers the widgets then show. A
screenshot goes to pytest's temporary folder (and to ``images/`` when
``UPDATE_SCREENSHOTS=1``). Servers and their kernels are stopped even when a
test fails.

Needs Debian's ``chromium`` (Playwright's own browser download is not used):
without it the tests are skipped, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from browser_utils import (
    CHROMIUM_ARGS,
    ROOT,
    find_chromium,
    random_token,
    start_jupyterlab,
    start_voila,
)

NOTEBOOK = ROOT / "notebooks" / "instructor_dashboard.ipynb"
WIDGET_COUNT = 7
RUN_TIMEOUT_MS = 180_000  # kernel start + TensorFlow import + model loading, on 2 slow cores
VIEWPORT = {"width": 1280, "height": 900}


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


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


_DASHBOARD_STATE = f"""() => {{
    const readouts = [...document.querySelectorAll('.cifar-widget .cifar-readout')];
    const text = document.body.innerText;
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


def wait_for_readout(widget, text, timeout=15_000):
    """Wait until the widget's readout starts with `text` (the kernel answers asynchronously)."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        if readout(widget).startswith(text):
            return
        time.sleep(0.2)
    raise AssertionError(f"readout is {readout(widget)!r}, expected it to start with {text!r}")


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
    feature_maps = widgets.nth(6)
    assert "feature maps" in readout(feature_maps)
    stepper.scroll_into_view_if_needed()


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
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        print(server.log())
        raise
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_dashboard_in_voila(chromium, seed_model, page, tmp_path):
    token = random_token()
    server = start_voila(NOTEBOOK, tmp_path, token)
    try:
        server.wait_until_up(f"{server.url}/voila/static/voila.js?token={token}")
        page.goto(f"{server.url}/?token={token}", timeout=RUN_TIMEOUT_MS)
        wait_for_widgets(page)
        assert "widgets.convolution_stepper()" not in page.locator("body").inner_text()
        check_dashboard(page)
        # the screenshot shows the network's widgets (the JupyterLab one shows the stepper)
        page.locator(".cifar-widget").nth(5).evaluate("e => e.scrollIntoView({block: 'start'})")
        save_screenshot(page, tmp_path, "dashboard_voila.png")
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        print(server.log())
        raise
    finally:
        server.stop()
    assert server.process.poll() is not None
