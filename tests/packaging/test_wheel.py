"""The built wheel, installed (not editable) into a fresh virtual environment, runs
and finds its resources. Dependencies come from the test's own environment through a
.pth file, so nothing is downloaded but the build backend; the package itself must
come from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sophmate_desktop import __version__, resources

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    prefix: Path
    python: Path
    bin: Path
    site_packages: Path
    wheel: Path


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "SOPHMATE_DB", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(QT_QPA_PLATFORM="offscreen", SOPHMATE_ALLOW_INSECURE_KEYRING="1", **extra)
    return env


def run(args: list[str | Path], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def build_wheel(work: Path) -> Path:
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the
    # checkout that other runs share.
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "sophmate_desktop",
        source / "sophmate_desktop",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    out = work / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source], work)
    (wheel,) = out.glob("sophmate_desktop-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(work)
    prefix = work / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(prefix)
    python = prefix / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # Our dependencies (PySide6, peewee, ...) without downloading them. A plain path
    # line does not run the .pth files over there, so an editable install of this
    # project in the outer environment stays invisible.
    outer = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    (purelib / "_outer_deps.pth").write_text("\n".join(dict.fromkeys(outer)) + "\n")
    run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel],
        work,
    )
    yield Installed(prefix, python, prefix / "bin", purelib, wheel)


def test_package_comes_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    done = run(
        [installed.python, "-c", "import sophmate_desktop; print(sophmate_desktop.__file__)"],
        installed.prefix,
    )
    location = Path(done.stdout.strip())
    assert location.is_relative_to(installed.site_packages)
    assert not location.is_relative_to(REPO)


def test_both_scripts_report_the_version(installed: Installed) -> None:
    for script in ("sophmate-desktop-cli", "sophmate-desktop"):
        done = run([installed.bin / script, "--version"], installed.prefix)
        assert done.stdout.strip() == f"sophmate-desktop {__version__}"


def test_demo_fills_a_temporary_database(installed: Installed, tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    cli = installed.bin / "sophmate-desktop-cli"
    done = run([cli, "--db", db, "demo", "--folder", tmp_path / "files"], tmp_path)
    names = [p.name.removesuffix(".yaml") for p in resources.example_workflows()]
    for name in names:
        assert f"imported {name}" in done.stdout
    assert "demo data ready" in done.stdout
    listed = run([cli, "--db", db, "workflow", "list", "--json"], tmp_path)
    assert sorted(w["name"] for w in json.loads(listed.stdout)) == sorted(names)
    verified = run([cli, "--db", db, "audit", "verify"], tmp_path)
    assert verified.stdout.strip()


def test_self_test_passes_on_the_installed_package(installed: Installed, tmp_path: Path) -> None:
    """Resources, keyring backends, watchdog, migrations and the window, from the wheel."""
    done = run([installed.python, REPO / "packaging" / "selftest.py"], tmp_path)
    report = json.loads(done.stdout)
    assert all(check["ok"] for name, check in report.items() if name != "frozen"), report
    found = report["resources"]["found"]
    assert Path(found["folder"]).is_relative_to(installed.site_packages)
    assert found["workflows"] == [p.stem for p in resources.example_workflows()]
    assert found["icons"] == len(resources.icon_names())
    assert report["window"]["found"]["page"] == "welcome"
