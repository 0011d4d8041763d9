#!/usr/bin/env bash
# One entry point for newcomers: installs what is missing into .venv, then
#   bash run.sh study [snakemake args...]   runs the default study (snakemake --cores N)
#   bash run.sh test  [pytest args...]      runs the test suite (installs slurm-wlm, munge and
#                                           chromium with apt-get first, when root and missing)
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            python=$candidate
            break
        fi
    done
fi
[ -n "$python" ] || { echo "run.sh: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.qcrobust-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing into .venv (first run takes a few minutes)" >&2
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    # torch first, pinned: a CPU wheel of 2.13.0 is on these machines; anything else pulls GBs.
    .venv/bin/python -m pip install --quiet torch==2.13.0
    .venv/bin/python -m pip install --quiet torch==2.13.0 -e '.[test]'
    echo "$want" > "$stamp"
fi

cores=${CORES:-$(nproc)}
case "${1:-}" in
    study)
        shift
        # config files that are not YAML (with line and column), and the lock a killed run left
        .venv/bin/python -m qcrobust.startup "$@" || exit 1
        exec .venv/bin/snakemake --cores "$cores" "$@"
        ;;
    test)
        shift
        # Slurm + munge (cluster test) and chromium (report screenshot), when missing and root
        bash tests/install_system_deps.sh
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: bash run.sh study|test [args...]" >&2
        exit 2
        ;;
esac
