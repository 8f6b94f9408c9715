"""Check that the packages the course needs are installed and recent enough."""

from __future__ import annotations

import sys
from importlib import metadata

__all__ = ["REQUIREMENTS", "check_environment"]

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
