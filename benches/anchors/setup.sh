#!/usr/bin/env bash
# Creates (if missing) a Python venv with Brian2 and NEST for the anchor
# benchmarks, and prints the venv's python on stdout (everything else goes
# to stderr), so that
#
#     HEBB_ANCHORS_PYTHON=$(benches/anchors/setup.sh)
#
# works. Usage: setup.sh [VENV_DIR]   (default: $HOME/.cache/hebb-anchors-venv)
#
# Brian2 >= 2.10 needs Python >= 3.13: the script looks for python3.13 (on
# PATH, then pyenv's 3.13.x); without one it falls back to python3 with
# brian2==2.9.0. NEST comes from pip's `nest-simulator` package; if it cannot
# be installed the venv is still printed (side_by_side.py then reports NEST
# as "error", or use --skip nest).
set -euo pipefail

VENV="${1:-$HOME/.cache/hebb-anchors-venv}"
log() { echo "setup.sh: $*" >&2; }

# Is this interpreter at least Python 3.13?
is_313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; }

# Do brian2 and nest import in the venv?
has() { "$VENV/bin/python" -c "import $1" >/dev/null 2>&1; }

find_python() {
    local c
    for c in python3.13 python3; do
        if command -v "$c" >/dev/null 2>&1 && is_313 "$(command -v "$c")"; then
            command -v "$c"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local root; root="$(pyenv root 2>/dev/null || true)"
        for c in $(ls -d "$root"/versions/3.13* 2>/dev/null | sort -rV); do
            if [ -x "$c/bin/python3" ] && is_313 "$c/bin/python3"; then echo "$c/bin/python3"; return 0; fi
        done
    fi
    for c in $(ls -d "$HOME"/.pyenv/versions/3.13* 2>/dev/null | sort -rV); do
        if [ -x "$c/bin/python3" ] && is_313 "$c/bin/python3"; then echo "$c/bin/python3"; return 0; fi
    done
    return 1
}

if [ -x "$VENV/bin/python" ] && has brian2 && has nest; then
    log "using the existing venv $VENV"
    echo "$VENV/bin/python"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    if PY="$(find_python)"; then
        log "creating $VENV with $PY ($("$PY" --version 2>&1))"
    else
        PY="$(command -v python3 || true)"
        [ -n "$PY" ] || { log "no python3 found"; exit 1; }
        log "no Python 3.13 found: creating $VENV with $PY ($("$PY" --version 2>&1)), brian2==2.9.0"
    fi
    "$PY" -m venv "$VENV" >&2
fi

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --upgrade pip >&2 || log "could not upgrade pip (continuing)"
"${PIP[@]}" install setuptools >&2 || true   # distutils, which Brian2's C++ build may need

if ! has brian2; then
    if is_313 "$VENV/bin/python"; then
        "${PIP[@]}" install "brian2>=2.10" >&2
    else
        "${PIP[@]}" install "brian2==2.9.0" >&2
    fi
fi
if ! has nest; then
    "${PIP[@]}" install nest-simulator >&2 || log "could not install nest-simulator: NEST runs will fail (use --skip nest)"
fi

has brian2 || { log "brian2 does not import in $VENV"; exit 1; }
log "brian2 $("$VENV/bin/python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null | tail -1)"
if has nest; then
    log "nest $("$VENV/bin/python" -c 'import nest; print(nest.__version__)' 2>/dev/null | tail -1)"
fi
echo "$VENV/bin/python"
