"""Energy per inference (issue 20): memory accesses per accelerator command (``access``),
SRAM figures from CACTI 7 (``cacti``), the measured/cited per-action energies (``params``) and
the per-layer / per-block network model (``model``). numpy/stdlib only (no Amaranth, no torch
at import time)."""
