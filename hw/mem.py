"""On-chip memories of the accelerator top: one ``Ram`` class, two implementations.

``Ram(shape, depth, impl="amaranth")`` wraps ``amaranth.lib.memory.Memory`` (what the Amaranth
simulator and formal flows use). ``impl="verilog"`` instantiates the behavioural Verilog module
``fusesa_ram`` below instead (``hw.gen`` appends its source to the generated file). Both have
the same ports and timing:

- write ports: ``en``, ``addr``, ``data``; the word is written at the clock edge;
- read ports: ``addr`` -> ``data`` one cycle later (synchronous read; ``en`` low holds
  ``data``, ``en`` is high unless driven). A read
  port made with ``transparent_for=(wp, ...)`` returns the word being written by ``wp`` in the
  same cycle to the same address (read-new-data), otherwise the old word.

Why a Verilog module at all: Amaranth emits a memory's (all-zero) initial contents word by word
through Yosys, which takes minutes and tens of megabytes at the depths a whole network needs
(``act_depth = 2**18`` on a 4x4 array: 9.5 minutes, 23 MB of Verilog). ``fusesa_ram`` zeroes
the array with one loop, so the generated text does not grow with the depth. In a tape-out
these memories are SRAM macros; this module is their simulation model.
"""

from __future__ import annotations

import re

from amaranth import ClockSignal, Instance, Module, Shape, Signal
from amaranth.hdl import ShapeCastable
from amaranth.lib.memory import Memory
from amaranth.utils import ceil_log2

__all__ = ["Ram", "RAM_MODULE", "RAM_VERILOG", "RAM_IMPLS", "strip_ram_init"]

RAM_IMPLS = ("amaranth", "verilog")
RAM_MODULE = "fusesa_ram"

#: Simulation model of a synchronous-read RAM with NW write ports and NR read ports.
#: ``TRANSP`` bit ``k*NW + j`` makes read port ``k`` transparent for write port ``j``.
RAM_VERILOG = """\
module fusesa_ram #(
  parameter WIDTH = 8, parameter DEPTH = 16, parameter ABITS = 4,
  parameter NW = 1, parameter NR = 1, parameter [NW*NR-1:0] TRANSP = 0
) (
  input clk,
  input [NW-1:0] w_en,
  input [NW*ABITS-1:0] w_addr,
  input [NW*WIDTH-1:0] w_data,
  input [NR-1:0] r_en,
  input [NR*ABITS-1:0] r_addr,
  output reg [NR*WIDTH-1:0] r_data
);
  reg [WIDTH-1:0] mem [0:DEPTH-1];
  integer i, j, k;
  // fusesa_ram:init-begin
  initial begin
    for (i = 0; i < DEPTH; i = i + 1) mem[i] = {WIDTH{1'b0}};
    r_data = {NR*WIDTH{1'b0}};
  end
  // fusesa_ram:init-end
  always @(posedge clk) begin
    for (j = 0; j < NW; j = j + 1)
      if (w_en[j]) mem[w_addr[j*ABITS +: ABITS]] <= w_data[j*WIDTH +: WIDTH];
  end
  always @(posedge clk) begin
    for (k = 0; k < NR; k = k + 1)
      if (r_en[k]) begin
        r_data[k*WIDTH +: WIDTH] <= mem[r_addr[k*ABITS +: ABITS]];
        for (j = 0; j < NW; j = j + 1)
          if (TRANSP[k*NW + j] && w_en[j] && w_addr[j*ABITS +: ABITS] == r_addr[k*ABITS +: ABITS])
            r_data[k*WIDTH +: WIDTH] <= w_data[j*WIDTH +: WIDTH];
      end
  end
endmodule
"""


class _WritePort:
    def __init__(self, shape, abits: int, name: str) -> None:
        self.en = Signal(name=f"{name}__en")
        self.addr = Signal(abits, name=f"{name}__addr")
        self.data = Signal(shape, name=f"{name}__data")


class _ReadPort:
    def __init__(self, shape, abits: int, name: str, transparent_for: tuple) -> None:
        self.en = Signal(name=f"{name}__en", init=1)
        self.addr = Signal(abits, name=f"{name}__addr")
        self.data = Signal(shape, name=f"{name}__data")
        self.transparent_for = transparent_for


class Ram:
    """A ``depth``-word memory of ``shape`` words (all zero at start). Make its ports with
    ``write_port()`` / ``read_port(transparent_for=...)``, then ``attach(m, name)`` adds it to
    module ``m`` as submodule ``name`` (a ``Memory``, or an instance of ``fusesa_ram`` whose
    word array is ``<name>.mem`` in the Verilog hierarchy)."""

    def __init__(self, *, shape, depth: int, impl: str = "amaranth", name: str = "ram") -> None:
        if impl not in RAM_IMPLS:
            raise ValueError(f"unknown RAM implementation {impl!r}; choose from {RAM_IMPLS}")
        if depth < 1:
            raise ValueError(f"RAM {name}: depth must be positive, not {depth}")
        self.shape, self.depth, self.impl, self.name = shape, depth, impl, name
        self.abits = max(1, ceil_log2(depth))
        cast = shape.as_shape() if isinstance(shape, ShapeCastable) else Shape.cast(shape)
        self.width = cast.width
        self._w: list[_WritePort] = []
        self._r: list[_ReadPort] = []
        self._memory = Memory(shape=shape, depth=depth, init=[]) if impl == "amaranth" else None

    @property
    def data(self):
        """The word array of the Amaranth implementation (``MemoryData``: simulators read it
        with ``ctx.get(ram.data[i])``); the Verilog one has none in Python."""
        if self._memory is None:
            raise AttributeError(f"RAM {self.name}: impl 'verilog' has no simulator data")
        return self._memory.data

    def write_port(self) -> _WritePort:
        p = _WritePort(self.shape, self.abits, f"{self.name}_w{len(self._w)}")
        self._w.append(p)
        return p

    def read_port(self, transparent_for: tuple = ()) -> _ReadPort:
        for wp in transparent_for:
            if not any(wp is p for p in self._w):
                raise ValueError(f"RAM {self.name}: transparent_for names another memory's port")
        p = _ReadPort(
            self.shape, self.abits, f"{self.name}_r{len(self._r)}", tuple(transparent_for)
        )
        self._r.append(p)
        return p

    def attach(self, m: Module, name: str) -> None:
        if self.impl == "amaranth":
            mem = self._memory
            m.submodules[name] = mem
            wmap = {}
            for p in self._w:
                wp = mem.write_port()
                wmap[id(p)] = wp
                m.d.comb += [wp.en.eq(p.en), wp.addr.eq(p.addr), wp.data.eq(p.data)]
            for p in self._r:
                rp = mem.read_port(transparent_for=tuple(wmap[id(w)] for w in p.transparent_for))
                m.d.comb += [rp.en.eq(p.en), rp.addr.eq(p.addr), p.data.eq(rp.data)]
            return

        nw, nr, ab, w = len(self._w), len(self._r), self.abits, self.width
        if nw == 0 or nr == 0:
            raise ValueError(f"RAM {self.name}: needs at least one write and one read port")
        w_en = Signal(nw, name=f"{name}__w_en")
        w_addr = Signal(nw * ab, name=f"{name}__w_addr")
        w_data = Signal(nw * w, name=f"{name}__w_data")
        r_en = Signal(nr, name=f"{name}__r_en")
        r_addr = Signal(nr * ab, name=f"{name}__r_addr")
        r_data = Signal(nr * w, name=f"{name}__r_data")
        transp = 0
        for j, p in enumerate(self._w):
            m.d.comb += [
                w_en[j].eq(p.en),
                w_addr[j * ab : (j + 1) * ab].eq(p.addr),
                w_data[j * w : (j + 1) * w].eq(_bits(p.data)),
            ]
        for k, p in enumerate(self._r):
            m.d.comb += [
                r_en[k].eq(p.en),
                r_addr[k * ab : (k + 1) * ab].eq(p.addr),
                _bits(p.data).eq(r_data[k * w : (k + 1) * w]),
            ]
            for j, wp in enumerate(self._w):
                if any(wp is t for t in p.transparent_for):
                    transp |= 1 << (k * nw + j)
        m.submodules[name] = Instance(
            RAM_MODULE,
            p_WIDTH=w,
            p_DEPTH=self.depth,
            p_ABITS=ab,
            p_NW=nw,
            p_NR=nr,
            p_TRANSP=transp,
            i_clk=ClockSignal(),
            i_w_en=w_en,
            i_w_addr=w_addr,
            i_w_data=w_data,
            i_r_en=r_en,
            i_r_addr=r_addr,
            o_r_data=r_data,
        )


def _bits(v):
    """The plain ``Value`` under a signal that may be a ``data`` view."""
    return v.as_value() if hasattr(v, "as_value") else v


def strip_ram_init(verilog: str) -> str:
    """``verilog`` without ``fusesa_ram``'s zeroing ``initial`` block (for flows that zero the
    memories themselves, e.g. ``sim.cyclenet``: Yosys would unroll the loop word by word)."""
    return re.sub(
        r"  // fusesa_ram:init-begin\n.*?  // fusesa_ram:init-end\n", "", verilog, flags=re.S
    )
