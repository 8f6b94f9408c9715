"""The machine the course runs on: package versions, and TensorFlow's CPU kernels.

`check_environment` checks that the packages the course needs are installed
and recent enough. `enable_onednn` asks TensorFlow for its fastest CPU kernels;
the explicit entry points (`cifar_helpers.notebook.setup_notebook`, the
``cifar-course`` command and the benchmark scripts) call it. Importing a
`cifar_helpers` module never changes the environment.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

__all__ = [
    "ONEDNN_ENV",
    "REQUIREMENTS",
    "check_environment",
    "enable_onednn",
    "native_bfloat16",
    "onednn_enabled",
]

#: The variable TensorFlow reads, once, when it is imported.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"

#: distribution name -> minimum version the course is tested with
REQUIREMENTS = {
    "numpy": "1.26",
    "scipy": "1.11",
    "matplotlib": "3.8",
    "pillow": "10.0",
    "scikit-learn": "1.4",
    "tensorflow": "2.16",
    "keras": "3.5",
    "ipywidgets": "8.1",
    "jupyterlab": "4.0",
}
MIN_PYTHON = (3, 10)


def _as_tuple(version):
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    return tuple(parts)


def check_environment(requirements=None, verbose=True):
    """Print ``[OK]`` or ``[FAIL]`` for Python and each required package.

    Parameters
    ----------
    requirements : dict, optional
        Distribution name -> minimum version; defaults to `REQUIREMENTS`.
    verbose : bool
        Print one line per check.

    Returns
    -------
    bool
        True when every check passed.

    Examples
    --------
    >>> check_environment({"surely-not-installed-pkg": "1.0"})  # doctest: +ELLIPSIS
    [OK] python ...
    [FAIL] surely-not-installed-pkg is not installed: pip install "surely-not-installed-pkg>=1.0"
    False
    """
    requirements = REQUIREMENTS if requirements is None else requirements
    lines = []
    python = ".".join(map(str, sys.version_info[:3]))
    ok_python = sys.version_info[:2] >= MIN_PYTHON
    minimum = ".".join(map(str, MIN_PYTHON))
    lines.append(
        f"[OK] python {python}" if ok_python else f"[FAIL] python {python}: upgrade to >= {minimum}"
    )
    all_ok = ok_python
    for name, wanted in requirements.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            lines.append(f'[FAIL] {name} is not installed: pip install "{name}>={wanted}"')
            all_ok = False
            continue
        if _as_tuple(found) >= _as_tuple(wanted):
            lines.append(f"[OK] {name} {found}")
        else:
            lines.append(f'[FAIL] {name} {found}: upgrade to >= {wanted} (pip install -U "{name}")')
            all_ok = False
    if verbose:
        print("\n".join(lines))
    return all_ok


def enable_onednn(environ=None):
    """Ask TensorFlow to compute with its oneDNN kernels, on x86-64 CPUs.

    On Linux, TensorFlow turns oneDNN on by itself only on CPUs with
    AVX512-VNNI, AVX512-BF16, AVX-VNNI or AMX; elsewhere (an AVX2-only CPU, say)
    it falls back to slower kernels. With them on, the seed model trained 1.5
    times faster on a 2-core AVX2-only machine (``benchmarks/README.md``).
    This sets ``TF_ENABLE_ONEDNN_OPTS=1`` unless the variable is set already
    (so ``TF_ENABLE_ONEDNN_OPTS=0`` still wins), and leaves other architectures
    to TensorFlow's own choice. TensorFlow reads the variable once, when it is
    imported, so call this first.

    Parameters
    ----------
    environ : dict, optional
        The environment to change; default ``os.environ``.

    Returns
    -------
    str or None
        The variable's value afterwards (None where it is not set).

    Examples
    --------
    >>> enable_onednn({"TF_ENABLE_ONEDNN_OPTS": "0"})
    '0'
    """
    environ = os.environ if environ is None else environ
    if platform.machine().lower() in ("x86_64", "amd64"):
        environ.setdefault(ONEDNN_ENV, "1")
    return environ.get(ONEDNN_ENV)


def onednn_enabled():
    """Whether TensorFlow computes with its oneDNN kernels in this process.

    Returns None when Keras runs on another backend or this TensorFlow build
    cannot say. Imports Keras (and TensorFlow, its default backend).
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow build without the (private) query
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def native_bfloat16(cpuinfo=None):
    """Whether this CPU multiplies bfloat16 numbers natively (AVX512-BF16 or AMX-BF16).

    Only then does Keras' ``"mixed_bfloat16"`` policy make training faster on a
    CPU; elsewhere it is emulated and slower. `cpuinfo` is the text of
    ``/proc/cpuinfo`` (read from the file when None; False where there is none).

    Examples
    --------
    >>> native_bfloat16("flags : fpu avx2 avx512f avx512_bf16")
    True
    >>> native_bfloat16("flags : fpu avx2 fma")
    False
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
                cpuinfo = handle.read(1 << 20)
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return bool({"avx512_bf16", "amx_bf16"} & set(value.split()))
    return False
