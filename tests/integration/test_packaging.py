"""The wheel a user installs: built from the project's sources, installed into a fresh folder, and
imported from there in a clean interpreter (not from the checkout).

- every module of ``volmargin`` and ``volmargin_lab`` imports from the installed wheel;
- every module of ``volmargin`` imports with the lab libraries (pandas, scipy, statsmodels, arch,
  matplotlib, dask, tabulate) unimportable: the protocol package needs none of them, nor
  ``volmargin_lab``;
- an installed ``volmargin_lab`` finds its price files through ``$VOLMARGIN_DATA_DIR`` or
  ``./data/prices``, and says so (naming the variable) when neither exists.

The wheel is built with pip's build isolation: the build needs ``setuptools>=77`` (the SPDX
``license`` field), which needs ``packaging>=24.2``, while eth-ape 0.8.51 pins ``packaging<24``, so
the backend cannot run inside the project's environment. pip takes the build backend from the
configured package index (as ``make setup`` does for the editable install).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("volmargin", "volmargin_lab")
LAB_LIBRARIES = ("pandas", "scipy", "statsmodels", "arch", "matplotlib", "dask", "tabulate")

#: Run by a fresh interpreter (``python -I``: no PYTHONPATH, no script or current directory on
#: sys.path) as ``child.py MODE SITE PACKAGE...``; prints one JSON line. MODE ``all`` imports every
#: module of PACKAGE..., ``protocol`` does so with the lab libraries unimportable, ``data`` loads an
#: episode through the installed volmargin_lab.data.
CHILD = """
import importlib, json, pkgutil, sys
from pathlib import Path

mode, site, packages = sys.argv[1], sys.argv[2], sys.argv[3:]
BLOCKED = set(LAB_LIBRARIES)


class Unimportable:
    \"\"\"A meta path finder that makes the lab libraries look uninstalled.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the packaging test)", name=name)
        return None


sys.path.insert(0, site)
if mode == "protocol":
    sys.meta_path.insert(0, Unimportable())
if mode == "data":
    from volmargin_lab import data

    out = {"data_dir": str(data.DATA_DIR), "cwd": str(Path.cwd()), "file": data.__file__}
    try:
        out["bars"] = len(data.load_episode("eth-2020-03")["WETH"])
    except data.DataError as exc:
        out["error"] = str(exc)
    print(json.dumps(out))
    sys.exit(0)
files = {}
for package in packages:
    top = importlib.import_module(package)
    names = [package] + [m.name for m in pkgutil.walk_packages(top.__path__, package + ".")]
    for name in names:
        files[name] = importlib.import_module(name).__file__
print(json.dumps({"files": files, "sys_path": sys.path, "modules": sorted(sys.modules)}))
""".replace("LAB_LIBRARIES", repr(LAB_LIBRARIES))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder holding the wheel built from a copy of the sources, installed under ``site``."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # building writes build/ and *.egg-info: keep them out of the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)],
        cwd=tmp, capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, f"building the wheel failed (is the package index reachable?):\n{built.stderr}"
    (wheel,) = (tmp / "dist").glob("volmargin-*.whl")
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", str(tmp / "site"),
         str(wheel)],
        cwd=tmp, capture_output=True, text=True, timeout=300,
    )
    assert inst.returncode == 0, inst.stderr
    (tmp / "child.py").write_text(CHILD)
    return tmp


def _child(tmp: Path, mode: str, *packages: str, data_dir: Path | None = None) -> dict:
    """Run child.py in a fresh isolated interpreter with cwd ``tmp`` and ``$VOLMARGIN_DATA_DIR``
    set to ``data_dir`` (unset when None); its JSON output."""
    env = {k: v for k, v in os.environ.items() if k not in ("VOLMARGIN_DATA_DIR", "PYTHONPATH")}
    if data_dir is not None:
        env["VOLMARGIN_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-I", str(tmp / "child.py"), mode, str(tmp / "site"), *packages],
        cwd=tmp, capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _checkout_modules(package: str) -> set[str]:
    """Dotted names of every module and package under the checkout's ``package`` folder."""
    names = set()
    for f in (ROOT / package).rglob("*.py"):
        parts = f.relative_to(ROOT).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_wheel_holds_both_packages_and_nothing_else(installed):
    site = installed / "site"
    tops = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert tops == set(PACKAGES)
    (info,) = site.glob("volmargin-*.dist-info")
    meta = (info / "METADATA").read_text()
    assert "License-Expression: AGPL-3.0-only" in meta
    for extra in ("lab", "test"):
        assert f"Provides-Extra: {extra}" in meta
    assert 'pandas>=2.1; extra == "lab"' in meta and "Requires-Dist: numpy" in meta


def test_every_module_imports_from_the_wheel(installed):
    out = _child(installed, "all", *PACKAGES)
    site = (installed / "site").resolve()
    assert not any(Path(p or ".").resolve() == ROOT for p in out["sys_path"])
    want = _checkout_modules("volmargin") | _checkout_modules("volmargin_lab")
    assert set(out["files"]) == want
    for name, file in out["files"].items():
        assert Path(file).resolve().is_relative_to(site), f"{name} imported from {file}, not the wheel"


def test_protocol_package_needs_no_lab_library(installed):
    out = _child(installed, "protocol", "volmargin")
    site = (installed / "site").resolve()
    assert set(out["files"]) == _checkout_modules("volmargin")
    for name, file in out["files"].items():
        assert Path(file).resolve().is_relative_to(site), f"{name} imported from {file}, not the wheel"
    loaded = {m.partition(".")[0] for m in out["modules"]}
    assert not loaded & set(LAB_LIBRARIES) and "volmargin_lab" not in loaded


def test_installed_lab_finds_prices_by_variable_or_cwd(installed):
    # no variable, no ./data/prices: the folder is ./data/prices and loading names the variable
    out = _child(installed, "data")
    assert Path(out["file"]).resolve().is_relative_to((installed / "site").resolve())
    assert out["data_dir"] == str(Path(out["cwd"]) / "data" / "prices")
    assert "VOLMARGIN_DATA_DIR" in out["error"] and "does not exist" in out["error"]
    # $VOLMARGIN_DATA_DIR names the folder
    prices = ROOT / "data" / "prices"
    out = _child(installed, "data", data_dir=prices)
    assert out["data_dir"] == str(prices) and out["bars"] == 384
    # ./data/prices under the current directory
    (installed / "data").mkdir(exist_ok=True)
    (installed / "data" / "prices").symlink_to(prices, target_is_directory=True)
    try:
        out = _child(installed, "data")
        assert out["data_dir"] == str(installed / "data" / "prices") and out["bars"] == 384
    finally:
        (installed / "data" / "prices").unlink()
