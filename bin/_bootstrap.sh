# Sourced by bin/run and bin/test: makes .venv with the first python3 that is 3.11 or newer and
# installs the pinned requirements (the runtime itself from this checkout, editable), again only
# when a requirements file or pyproject.toml (the runtime's dependencies) has changed.
set -eu
cd "$(dirname "$0")/.."
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON=$candidate
        break
    fi
done
if [ -z "${PYTHON:-}" ]; then
    echo "djchan needs Python 3.11 or newer on PATH (python3.11, python3.12, ...)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $PYTHON" >&2
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-$(cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
if [ ! -f "$stamp" ]; then
    echo "Installing requirements into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements-dev.txt
    rm -f .venv/.requirements-*
    touch "$stamp"
fi
