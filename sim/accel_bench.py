"""cocotb helpers shared by the accelerator benches (``sim.tb_accel``, ``sim.tb_network``):
bring the bench top (``sim.runner.accel_tb_top``) out of reset, load memory images in bulk
(``$readmemh``), read the accumulator memory back in bulk (``$writememh``)."""

from __future__ import annotations

from pathlib import Path

from cocotb.triggers import FallingEdge

from sim.memfiles import read_dump, start_clock, write_image
from sim.runner import ACCEL_ACT_DUMP_FILE, ACCEL_DUMP_FILE, ACCEL_LOAD_FILES

__all__ = ["bring_up", "load_images", "dump_acc", "dump_act"]

#: inputs held at 0 when idle; the host streams among them (an X ``valid`` on Icarus would
#: make the read-back look busy, and ``start`` is ignored while a read-back is in flight)
IDLE_INPUTS = (
    "start", "act_we", "w_we", "cmd_we", "acc_raddr", "dump_acc", "dump_n", "dump_act",
    "dump_act_n",
    "load__valid", "load__payload", "rd_req__valid", "rd_req__payload", "rd_data__ready",
)  # fmt: skip


async def bring_up(dut, period_ns: int) -> None:
    """Start the clock (unless the bench top clocks itself), drive every input idle, reset."""
    start_clock(dut, period_ns)
    for port in (*IDLE_INPUTS, *(f"load_{mem}" for mem in ACCEL_LOAD_FILES)):
        getattr(dut, port).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    for _ in range(2):  # the bench top registers rst and start
        await FallingEdge(dut.clk)


async def load_images(dut, act: dict[int, int], weight: dict[int, int], cmd: list[int]) -> int:
    """Load the activation, weight and command images (one ``$readmemh`` per memory, one
    clock cycle in all); returns the words written."""
    images = {"act_mem": act, "w_mem": weight, "cmd_mem": dict(enumerate(cmd))}
    pins = []
    for mem, image in images.items():
        if image:
            write_image(Path(ACCEL_LOAD_FILES[mem]), image)
            pin = getattr(dut, f"load_{mem}")
            pin.value = 1
            pins.append(pin)
    await FallingEdge(dut.clk)
    for pin in pins:
        pin.value = 0
    return len(act) + len(weight) + len(cmd)


async def _dump(dut, n: int, pin: str, count_pin: str, file: str) -> list[int]:
    """Words ``0 .. n-1`` of a memory as packed ints (one ``$writememh`` on ``pin``)."""
    if n == 0:
        return []
    dump = Path(file)
    dump.unlink(missing_ok=True)
    getattr(dut, count_pin).value = n
    getattr(dut, pin).value = 1
    await FallingEdge(dut.clk)
    getattr(dut, pin).value = 0
    return read_dump(dump, n)


async def dump_acc(dut, n: int) -> list[int]:
    """Accumulator words ``0 .. n-1`` as packed ints (one ``$writememh``)."""
    return await _dump(dut, n, "dump_acc", "dump_n", ACCEL_DUMP_FILE)


async def dump_act(dut, n: int) -> list[int]:
    """Activation words ``0 .. n-1`` as packed ints (one ``$writememh``)."""
    return await _dump(dut, n, "dump_act", "dump_act_n", ACCEL_ACT_DUMP_FILE)
