#!/usr/bin/env bash
# Build the one-folder frozen application: dist/sophmate-desktop/sophmate-desktop.
#
#   PYTHON=/path/to/venv/bin/python packaging/build_frozen.sh
#
# PYTHON (default: python3) must have the project's dependencies installed (the dev
# venv, or CI's .venv). The script builds the wheel into dist/, installs it (not
# editable) into a throwaway venv in build/frozen/ that sees PYTHON's packages through
# a .pth file, pip-installs PyInstaller there from PyPI and runs the spec. The frozen
# app therefore contains exactly what the wheel ships.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PYTHON=${PYTHON:-python3}
PYINSTALLER_SPEC=${PYINSTALLER_SPEC:-pyinstaller>=6.10,<7}
work=$repo/build/frozen
unset PYTHONPATH VIRTUAL_ENV

"$PYTHON" -c 'import PySide6, peewee, watchdog, keyring' 2>/dev/null || {
    echo "error: $PYTHON lacks the project's dependencies (pip install -e . first)" >&2
    exit 2
}

rm -rf "$work" "$repo/dist/sophmate-desktop" "$repo"/dist/sophmate_desktop-*.whl
mkdir -p "$work/src" "$repo/dist"

# The wheel, built from a copy so that no build/ or *.egg-info lands in the checkout.
cp pyproject.toml README.md "$work/src/"
tar --exclude=__pycache__ --exclude='*.pyc' -cf - sophmate_desktop | tar -xf - -C "$work/src"
"$PYTHON" -m pip wheel -q --no-deps -w "$repo/dist" "$work/src"
wheel=$(ls "$repo"/dist/sophmate_desktop-*.whl)

# A throwaway venv: the wheel and PyInstaller in it, the dependencies from PYTHON.
# Plain path lines in a .pth do not run the .pth files over there, so an editable
# install of this project in PYTHON's environment stays out of the build.
"$PYTHON" -m venv --without-pip "$work/venv"
venv_py=$work/venv/bin/python
purelib=$("$venv_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$PYTHON" -c 'import site, sysconfig
print("\n".join(dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])))' \
    >"$purelib/_outer_deps.pth"
"$PYTHON" -m pip --python "$venv_py" install -q --no-deps "$wheel"
"$PYTHON" -m pip --python "$venv_py" install -q "$PYINSTALLER_SPEC"

# Run from build/frozen: from the checkout, `python -m` would import the source tree.
where=$(cd "$work" && "$venv_py" -c 'import sophmate_desktop; print(sophmate_desktop.__file__)')
case "$where" in
"$work"/venv/*) ;;
*) echo "error: the build would use $where, not the wheel" >&2; exit 1 ;;
esac
(cd "$work" && "$venv_py" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$repo/dist" --workpath "$work/pyinstaller" \
    "$repo/packaging/sophmate-desktop.spec")
echo "built $repo/dist/sophmate-desktop/sophmate-desktop ($(du -sh "$repo/dist/sophmate-desktop" | cut -f1))"
