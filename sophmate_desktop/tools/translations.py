"""Extract the window's strings for a translator:

    python -m sophmate_desktop.tools.translations LANG      (e.g. de, fr)

runs pyside6-lupdate over the UI's modules into
resources/translations/sophmate_LANG.ts (kept up to date on a second run: finished
translations stay). Translate it with Qt Linguist, then
`pyside6-lrelease sophmate_LANG.ts` makes the .qm the window loads at start.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
UI = PACKAGE / "ui"
OUT = PACKAGE / "resources" / "translations"


def sources() -> list[Path]:
    return sorted(p for p in UI.rglob("*.py") if p.name != "__init__.py")


def lupdate() -> str:
    found = shutil.which("pyside6-lupdate") or str(Path(sys.executable).parent / "pyside6-lupdate")
    return found


def extract(lang: str, out: Path = OUT) -> Path:
    """Write (or update) out/sophmate_LANG.ts with every tr() string of the UI."""
    if not lang.replace("_", "").isalpha():
        raise ValueError(f"LANG: {lang!r} is not a language code such as de or pt_BR")
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"sophmate_{lang}.ts"
    cmd = [lupdate(), *map(str, sources()), "-target-language", lang, "-ts", str(target)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophmate_desktop.tools.translations")
    parser.add_argument("lang", metavar="LANG", help="the language to translate into (de, fr…)")
    args = parser.parse_args(argv)
    try:
        target = extract(args.lang)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"strings in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
