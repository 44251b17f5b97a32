"""Memory image files of the accelerator bench top (``sim.runner.accel_tb_top``): written for
``$readmemh``, read back from ``$writememh`` (cocotb bench and raw C++ harness alike)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_image", "read_dump"]


def write_image(path: Path, image: dict[int, int]) -> None:
    """``$readmemh`` file of ``{address: word}``: an ``@address`` line before every run of
    consecutive addresses, then one hex word per line."""
    out: list[str] = []
    prev = -2
    for addr in sorted(image):
        if addr != prev + 1:
            out.append(f"@{addr:x}")
        out.append(f"{image[addr]:x}")
        prev = addr
    path.write_text("\n".join(out) + "\n")


def read_dump(path: Path, n: int) -> list[int]:
    """The first ``n`` words of a ``$writememh`` file (``//`` comments and ``@`` addresses
    allowed; x/z bits read as 0)."""
    words: dict[int, int] = {}
    addr = 0
    for line in path.read_text().splitlines():
        for tok in line.split("//", 1)[0].split():
            if tok.startswith("@"):
                addr = int(tok[1:], 16)
                continue
            words[addr] = int(tok.lower().replace("x", "0").replace("z", "0"), 16)
            addr += 1
    return [words.get(a, 0) for a in range(n)]


def start_clock(dut, period_ns: int) -> None:
    """Start ``dut.clk`` in cocotb's GPI layer, unless the bench top clocks itself
    (``FUSESA_INTERNAL_CLOCK=1``, set by ``sim.runner.run_bench``: Icarus)."""
    import os

    if os.environ.get("FUSESA_INTERNAL_CLOCK", "0") == "1":
        return
    from cocotb.clock import Clock

    Clock(dut.clk, period_ns, unit="ns", impl="gpi").start()
