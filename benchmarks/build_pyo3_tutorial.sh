#!/usr/bin/env bash
# Build and install the reference PyO3 tutorial-style extension used by the
# benchmark (benchmarks/pyo3_tutorial). Works from any cwd.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CRATE_DIR="$SCRIPT_DIR/pyo3_tutorial"
WHEEL_DIR="$CRATE_DIR/target/wheels/bench"

PYTHON="${PYTHON:-python3}"

if ! command -v maturin >/dev/null 2>&1; then
    echo "maturin not found on PATH; installing it with pip" >&2
    "$PYTHON" -m pip install "maturin>=1.0,<2.0"
fi

rm -rf "$WHEEL_DIR"
mkdir -p "$WHEEL_DIR"

cd "$REPO_ROOT"
maturin build --release \
    -m benchmarks/pyo3_tutorial/Cargo.toml \
    -i "$PYTHON" \
    -o "$WHEEL_DIR"

shopt -s nullglob
wheels=("$WHEEL_DIR"/pyo3_tutorial-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "expected exactly one wheel in $WHEEL_DIR, found ${#wheels[@]}" >&2
    exit 1
fi

"$PYTHON" -m pip install --force-reinstall --no-deps "${wheels[0]}"
echo "installed ${wheels[0]}"
