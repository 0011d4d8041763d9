#!/usr/bin/env bash
# System packages some tests need, installed only when missing (Debian/Ubuntu, as root):
#   slurm-wlm + munge   the real one-node Slurm cluster of tests/test_slurm.py
#   chromium            the headless screenshot of the HTML report (tests/test_report.py)
# Without root or apt-get this prints what is missing and exits 0: those tests then skip
# with a reason naming the missing program.
set -euo pipefail

missing=()
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v chromium >/dev/null || missing+=(chromium)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install_system_deps.sh: missing ${missing[*]} (needs root and apt-get); the tests that use them will skip" >&2
    exit 0
fi

echo "install_system_deps.sh: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# a fresh machine has no package lists yet
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    if ! { apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "install_system_deps.sh: WARNING: could not install ${missing[*]}; the tests that use them will skip" >&2
        exit 0
    fi
fi
# the packages' own services are not needed (tests start private daemons); stop any that started
for service in munge slurmctld slurmd; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
        systemctl stop "$service" || true
    fi
done
