"""Start Jupyter servers and a headless Chromium for the browser tests.

Servers run in their own process group, so `stop_server` ends the server and
every kernel it started, even when a test fails half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium():
    """Path of Debian's Chromium (or CHROMIUM_PATH), or None."""
    candidates = [os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextlib.contextmanager
def launched_chromium():
    """Debian's headless Chromium under Playwright, for a module's browser tests.

    Skips the tests when Chromium or Playwright is missing, and fails them instead
    when the ``CI`` environment variable is set (CI must install both).
    """
    import pytest

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


def free_port():
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_token():
    return secrets.token_hex(16)


class Server:
    """A server process started in its own process group, with its log file."""

    def __init__(self, command, url, log_path, cwd=ROOT, env=None):
        self.command, self.url, self.log_path = command, url, Path(log_path)
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self, last=4000):
        try:
            return self.log_path.read_text(errors="replace")[-last:]
        except OSError:
            return ""

    def wait_until_up(self, probe_url, timeout=60):
        """Poll `probe_url` until it answers (any HTTP status below 500)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with code {self.process.returncode}:\n"
                                   f"{self.log()}")
            try:
                with urllib.request.urlopen(probe_url, timeout=5):
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"server not up after {timeout} s:\n{self.log()}")

    def stop(self):
        """Terminate the whole process group (server and kernels); kill it if it lingers."""
        try:
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            # kernels may outlive the server process itself: clear the group
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.process.poll() is None:
                self.process.wait(timeout=10)
        finally:
            self._log.close()


# JupyterLab user settings for the test session: render every cell (no windowing, so the
# whole notebook is in the page), never autosave, no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


def jupyter_env(tmp_path):
    """Environment for a server: private config/runtime folders, quiet TensorFlow."""
    env = dict(os.environ)
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR",
                 "IPYTHONDIR"):
        folder = tmp_path / name.lower()
        folder.mkdir(exist_ok=True)
        env[name] = str(folder)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONUNBUFFERED"] = "1"
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def start_jupyterlab(root_dir, tmp_path, token):
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: themes, Presentation Mode
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    server = Server(command, url, tmp_path / "jupyterlab.log", env=jupyter_env(tmp_path))
    return server


def start_voila(notebook, tmp_path, token, *options):
    """Voilà serving `notebook`, started in the course folder, so that it reads ``voila.json``."""
    port = free_port()
    command = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser",
        f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        f"--token={token}", *options,
    ]
    url = f"http://127.0.0.1:{port}"
    return Server(command, url, tmp_path / "voila.log", env=jupyter_env(tmp_path))


def kernel_memory(server):
    """``{pid: (rss, uss, pss) in MiB}`` of the kernels a server started (its child processes)."""
    import psutil

    found = {}
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                info = process.memory_full_info()
                found[process.pid] = tuple(round(value / 2**20) for value in
                                           (info.rss, info.uss, getattr(info, "pss", info.uss)))
        except psutil.Error:  # it just ended
            pass
    return found


# -- measurements made inside the page -----------------------------------------------------------
#: WCAG 2 contrast of every number, caption and readout of the widgets with the given indexes:
#: the text colour and the background it sits on (every ancestor's background composited),
#: from computed styles. Returns the lowest ratio and what it was measured on.
CONTRAST_JS = """(indexes) => {
  const parse = text => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
                                         .concat([1]);
  const background = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour && colour[3] > 0) layers.push(colour);
      if (colour && colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const luminance = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const widgets = document.querySelectorAll('.cifar-widget');
  let worst = {ratio: Infinity}, count = 0;
  for (const index of indexes) {
    const parts = widgets[index].querySelectorAll(
      'td, .cifar-caption, .cifar-readout .widget-html-content, h4');
    for (const element of parts) {
      const text = element.textContent.trim();
      if (!text) continue;
      const bg = background(element);
      const fg = over(parse(getComputedStyle(element).color), bg);
      const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      count += 1;
      if (ratio < worst.ratio) worst = {ratio, text, fg: fg.map(Math.round),
                                        bg: bg.map(Math.round), widget: index};
    }
  }
  return {...worst, count};
}"""

#: What does not fit: widgets wider than their page or with content sticking out, pictures
#: drawn 0 pixels wide or cut off, buttons and labels whose text is cut ("Upload ph…").
LAYOUT_JS = """() => {
  const problems = [];
  const pageWidth = document.documentElement.clientWidth;
  document.querySelectorAll('.cifar-widget').forEach((widget, index) => {
    const box = widget.getBoundingClientRect();
    if (widget.scrollWidth > widget.clientWidth + 1 || box.right > pageWidth + 1)
      problems.push(`widget ${index} overflows: ${widget.scrollWidth} > ${widget.clientWidth}`);
    widget.querySelectorAll('img').forEach(img => {
      if (!img.getClientRects().length) return;  // not displayed (display: none)
      const r = img.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) problems.push(`widget ${index}: an image is 0 px wide`);
      if (r.right > box.right + 1) problems.push(`widget ${index}: an image is cut off`);
    });
    widget.querySelectorAll('.jupyter-button, .widget-label').forEach(element => {
      if (element.getClientRects().length && element.scrollWidth > element.clientWidth + 1)
        problems.push(`widget ${index}: "${element.textContent.trim()}" is cut off`);
    });
  });
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  if (scroller && scroller.scrollWidth > scroller.clientWidth + 1)
    problems.push('the notebook scrolls sideways');
  return problems;
}"""

#: Arm a stopwatch on widget `index`: it starts at the first input event inside the widget
#: (capture phase: pointerdown, keydown, input, change) and stops when the readout has
#: changed and every picture is decoded, at the next frame. `window.__redraw` holds the time.
REDRAW_ARM_JS = """(index) => {
  const widget = document.querySelectorAll('.cifar-widget')[index];
  const readout = widget.querySelector('.cifar-readout');
  const before = readout.textContent;
  const state = {start: null, ms: null};
  window.__redraw = state;
  const start = () => { if (state.start === null) state.start = performance.now(); };
  for (const type of ['pointerdown', 'keydown', 'input', 'change'])
    widget.addEventListener(type, start, {capture: true, once: true});
  const observer = new MutationObserver(async () => {
    if (readout.textContent === before || state.start === null) return;
    observer.disconnect();
    await Promise.all([...widget.querySelectorAll('img')].map(i => i.decode().catch(() => {})));
    requestAnimationFrame(() => { state.ms = performance.now() - state.start; });
  });
  observer.observe(widget, {subtree: true, childList: true, characterData: true});
}"""
