#!/usr/bin/env bash
# CI: build the wheel and the one-folder frozen app, then smoke-test both against a
# temporary database: --version, demo, audit verify; the frozen app's self-test too.
#
#   PYTHON=.venv/bin/python packaging/ci_build.sh
#
# PYTHON (default: python3) needs the project's dependencies; PyInstaller comes from
# PyPI into a throwaway venv (see build_frozen.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PYTHON=${PYTHON:-python3}
export PYTHON QT_QPA_PLATFORM=offscreen SOPHMATE_ALLOW_INSECURE_KEYRING=1
unset PYTHONPATH SOPHMATE_DB VIRTUAL_ENV
start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '== %s (%ss)\n' "$1" $((SECONDS - start)); }

smoke() { # smoke NAME CLI...: --version, demo and audit verify on a fresh database
    local name=$1
    shift
    local db=$tmp/$name.sqlite3 out
    out=$("$@" --version)
    [ "$out" = "sophmate-desktop $version" ] || { echo "$name --version said: $out" >&2; exit 1; }
    (cd "$tmp" && "$@" --db "$db" demo --folder "$tmp/$name-files") >"$tmp/$name-demo.log"
    grep -q '^demo data ready: 4 workflows' "$tmp/$name-demo.log" ||
        { cat "$tmp/$name-demo.log" >&2; echo "$name demo failed" >&2; exit 1; }
    "$@" --db "$db" audit verify
}

version=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

step "build wheel and frozen app"
packaging/build_frozen.sh
wheel=$(ls dist/sophmate_desktop-*.whl)

step "wheel: install into a fresh venv"
"$PYTHON" -m venv --without-pip "$tmp/venv"
purelib=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$PYTHON" -c 'import site, sysconfig
print("\n".join(dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])))' \
    >"$purelib/_outer_deps.pth"
"$PYTHON" -m pip --python "$tmp/venv/bin/python" install -q --no-deps "$wheel"
where=$(cd "$tmp" && "$tmp/venv/bin/python" -c 'import sophmate_desktop; print(sophmate_desktop.__file__)')
case "$where" in
"$tmp"/venv/*) ;;
*) echo "the wheel's venv imports $where, not the wheel" >&2; exit 1 ;;
esac
step "wheel: smoke test"
smoke wheel "$tmp/venv/bin/sophmate-desktop-cli"
[ "$("$tmp/venv/bin/sophmate-desktop" --version)" = "sophmate-desktop $version" ]

step "frozen: smoke test"
frozen=$repo/dist/sophmate-desktop/sophmate-desktop
smoke frozen "$frozen"
step "frozen: self-test (resources, keyring, watchdog, migrations, window)"
(cd "$tmp" && SOPHMATE_FROZEN_SELFTEST=1 "$frozen") >"$tmp/selftest.json" ||
    { cat "$tmp/selftest.json" >&2; echo "frozen self-test failed" >&2; exit 1; }
"$PYTHON" - "$tmp/selftest.json" "$repo/dist/sophmate-desktop" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["frozen"], "the self-test did not run frozen"
folder = report["resources"]["found"]["folder"]
assert folder.startswith(sys.argv[2] + "/"), f"resources read from {folder}"
print("frozen self-test:", ", ".join(k for k, v in report.items() if k != "frozen" and v["ok"]))
PY
step "done: $wheel and dist/sophmate-desktop/"
