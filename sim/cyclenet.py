"""Cycle-based Verilog for Icarus: the generated design flattened by Yosys and rewritten as ONE
``always @(posedge clk)`` block that evaluates every cell once per clock edge, in dependency
order, with blocking assignments.

Why: Icarus (``vvp``) is event driven. On the generated accelerator most of its time went into
net functors, not into the logic itself: wide vectors driven piecewise by several continuous
assignments (e.g. ``assign out_data[31:0] = ...; assign out_data[63:32] = ...`` in the array)
become strength-aware ``.concat8`` functors, and every change of one lane resends the whole
vector to every reader, which converts it back bit by bit (``vvp_vector4_t::set_bit`` from
``reduce4``: about 70 % of the run time with random data). Flattening removes those, but the
remaining thousands of small functors (part selects, sign-extending concatenations, one thread
per register) still cost ~1 ms per cycle on an 8x8 array. A single clocked block runs the same
logic as a short straight-line ``vvp`` thread: no event per net, no concatenation functors.

Semantics (all the generated designs satisfy them; anything else raises ``ValueError``):

- one clock (``clk``, rising edge); flip-flops are Yosys ``$dff``/``$dffe``/``$sdff``/
  ``$sdffe``/``$sdffce`` cells (synchronous reset, optional enable);
- memories are ``$mem_v2`` cells with synchronous or asynchronous read ports and synchronous
  write ports; a read port marked transparent for a write port sees that cycle's write.

At each rising edge the block (1) evaluates all combinational cells from the current state and
inputs, (2) computes the next state of every flip-flop and synchronous read port, (3) performs
the memory writes, (4) updates the state, and (5) re-evaluates the combinational cone of the
output ports so outputs are valid right after the edge. Inputs are therefore sampled at the
rising edge (the benches drive them at the falling edge). Internal combinational nets are not
kept up to date between edges; only ports and memories (``<name>`` as in the source, e.g.
``act_mem``) are meant to be observed or written by a bench. Memories are two-state
SystemVerilog ``bit`` arrays (they start at zero, and Icarus allocates them lazily, so a
``2**20``-word memory costs nothing until written): compile with ``iverilog -g2012`` (the
cocotb runner does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["yosys_script", "compile_json", "CycleNetlist"]

_FF_TYPES = ("$dff", "$dffe", "$sdff", "$sdffe", "$sdffce")
_BINARY = {
    "$add": "+",
    "$sub": "-",
    "$mul": "*",
    "$and": "&",
    "$or": "|",
    "$xor": "^",
    "$xnor": "~^",
    "$eq": "==",
    "$ne": "!=",
    "$eqx": "===",
    "$nex": "!==",
    "$lt": "<",
    "$le": "<=",
    "$gt": ">",
    "$ge": ">=",
    "$logic_and": "&&",
    "$logic_or": "||",
    "$shl": "<<",
    "$shr": ">>",
    "$sshl": "<<<",
    "$sshr": ">>>",
}
_UNARY = {
    "$not": "~",
    "$neg": "-",
    "$pos": "",
    "$logic_not": "!",
    "$reduce_and": "&",
    "$reduce_or": "|",
    "$reduce_xor": "^",
    "$reduce_xnor": "~^",
    "$reduce_bool": "|",
}
_SIMPLE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


#: memories of at least this many words are flattened without their INIT parameter
BIG_MEMORY = 1 << 16


def yosys_script(verilog: Path, top: str, json_out: Path) -> str:
    """The Yosys script that flattens ``verilog`` and writes the netlist ``json_out``."""
    return (
        f"read_verilog -sv {verilog}\n"
        f"hierarchy -top {top}\n"
        "proc\nflatten\nopt -full\nmemory -nomap\nopt_clean\n"
        # A big memory's INIT parameter is SIZE*WIDTH characters in the JSON (2**20 words of
        # 256 bits: 268 M), more than Yosys can write: the rewrite zeroes every memory
        # itself, so big memories lose their (all-x) INIT; small ones keep theirs.
        f"setparam -set INIT 0 t:$mem_v2 r:SIZE>={BIG_MEMORY}\n"
        f"write_json {json_out}\n"
    )


def _int(p: str) -> int:
    return int(p, 2) if set(p) <= {"0", "1"} else int(p)


def _vname(name: str) -> str:
    name = name.lstrip("\\")
    return name if _SIMPLE_ID.match(name) else f"\\{name} "


@dataclass
class CycleNetlist:
    """The rewritten module: Verilog text plus a few counts for the build log."""

    text: str
    cells: int
    flops: int
    memories: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, module: dict, top: str) -> None:
        self.m = module
        self.top = top
        self.driver: dict[int, tuple[str, int]] = {}  # bit -> (variable, index)
        self.width: dict[str, int] = {}
        self.decls: list[str] = []
        self.inline_set: set[str] = set()  # single-use cells written into their reader
        self.rhs = None  # var -> right-hand side text (set by compile_json)
        self.init_bits: dict[int, str] = {}
        for net in module["netnames"].values():
            init = net.get("attributes", {}).get("init")
            if init:
                for b, v in zip(net["bits"], reversed(init), strict=False):
                    if isinstance(b, int):
                        self.init_bits[b] = v

    # -- signals --------------------------------------------------------------------------------
    def own(self, var: str, bits: list) -> None:
        self.width[var] = len(bits)
        for i, b in enumerate(bits):
            if isinstance(b, int):
                self.driver.setdefault(b, (var, i))

    def strip(self, bits: list, signed: bool) -> list:
        """Drop extension bits an operand's context restores by itself: copies of the sign bit
        of a signed operand, constant zeros on top of an unsigned one."""
        n = len(bits)
        if signed:
            while n > 1 and bits[n - 1] == bits[n - 2]:
                n -= 1
        else:
            while n > 1 and bits[n - 1] == "0":
                n -= 1
        return bits[:n]

    def runs(self, bits: list) -> list[tuple[str | None, int, int, str]]:
        """``bits`` as LSB-first runs ``(variable, lo, hi, constant bits)``."""
        out: list[tuple[str | None, int, int, str]] = []
        i = 0
        while i < len(bits):
            b = bits[i]
            if isinstance(b, str) or b not in self.driver:
                j = i
                const = []
                while j < len(bits) and (isinstance(bits[j], str) or bits[j] not in self.driver):
                    const.append("1" if bits[j] == "1" else "0")
                    j += 1
                out.append((None, 0, j - i - 1, "".join(reversed(const))))
                i = j
                continue
            var, lo = self.driver[b]
            j = i + 1
            while (
                j < len(bits)
                and isinstance(bits[j], int)
                and self.driver.get(bits[j]) == (var, lo + j - i)
            ):
                j += 1
            out.append((var, lo, lo + j - i - 1, ""))
            i = j
        return out

    def expr(self, bits: list, signed: bool = False, ext: bool = False) -> str:
        """Verilog for ``bits``; ``ext``: the context is at least ``len(bits)`` wide and extends
        the operand itself (so extension bits are left out)."""
        if ext:
            bits = self.strip(bits, signed)
        pieces = []
        for var, lo, hi, const in self.runs(bits):
            if var is None:
                pieces.append(f"{len(const)}'b{const}")
            elif lo == 0 and hi == self.width[var] - 1:
                pieces.append(f"({self.rhs(var)})" if var in self.inline_set else var)
            elif lo == hi:
                pieces.append(f"{var}[{lo}]")
            else:
                pieces.append(f"{var}[{hi}:{lo}]")
        text = pieces[0] if len(pieces) == 1 else "{" + ", ".join(reversed(pieces)) + "}"
        return f"$signed({text})" if signed else text

    def deps(self, bits: list) -> set[str]:
        return {self.driver[b][0] for b in bits if isinstance(b, int) and b in self.driver}


def compile_json(json_path: Path, top: str) -> CycleNetlist:
    """Rewrite module ``top`` of a Yosys JSON netlist (``yosys_script``) as cycle-based Verilog."""
    design = json.loads(Path(json_path).read_text())
    try:
        mod = design["modules"][top]
    except KeyError:
        raise ValueError(f"{json_path}: no module {top!r}") from None
    w = _Writer(mod, top)
    ports = mod["ports"]
    if "clk" not in ports:
        raise ValueError(f"{top}: no 'clk' port")
    clk_bit = ports["clk"]["bits"][0]
    port_decls = []
    for name, p in ports.items():
        var = _vname(name)
        width = len(p["bits"])
        rng = f"[{width - 1}:0] " if width > 1 else ""
        if p["direction"] == "input":
            w.own(var, p["bits"])
            port_decls.append(f"  input {rng}{var};")
        elif p["direction"] == "output":
            port_decls.append(f"  output {rng}{var};")
        else:
            raise ValueError(f"{top}: inout port {name!r} is not supported")

    comb: dict[str, tuple[list[str], set[str]]] = {}  # var -> (statements, dependencies)
    state: list[str] = []  # variables updated at the clock edge
    flops: list[tuple[str, dict, dict]] = []
    mems: list[tuple[str, dict]] = []
    n = 0
    for cname, cell in mod["cells"].items():
        t = cell["type"]
        if t == "$scopeinfo":
            continue
        c = cell["connections"]
        p = cell["parameters"]
        n += 1
        if t in _FF_TYPES:
            if c["CLK"] != [clk_bit] or _int(p["CLK_POLARITY"]) != 1:
                raise ValueError(f"{top}: flip-flop {cname} is not clocked by rising clk")
            var = f"q{n}"
            w.own(var, c["Q"])
            flops.append((var, c, dict(p, _CE=t == "$sdffce")))
            state.append(var)
        elif t == "$mem_v2":
            mems.append((_vname(p["MEMID"]), cell))
            nrd = _int(p["RD_PORTS"])
            width = _int(p["WIDTH"])
            for r in range(nrd):
                var = f"m{n}_{r}"
                w.own(var, c["RD_DATA"][r * width : (r + 1) * width])
                if p["RD_CLK_ENABLE"][::-1][r] == "1":
                    state.append(var)
        elif t in _BINARY or t in _UNARY or t in ("$mux", "$pmux"):
            var = f"c{n}"
            w.own(var, c["Y"])
            comb[var] = ([], set())  # filled below, once every driver is known
            cell["_var"] = var
        else:
            raise ValueError(f"{top}: cell {cname} of type {t} is not supported")

    # combinational statements (now that every bit has a driver). Operands: (bits, signed,
    # extendable, may a single-use unsigned whole-variable operand be inlined here)
    operands: dict[str, list[tuple[list, bool, bool]]] = {}
    for cell in mod["cells"].values():
        var = cell.get("_var")
        if var is None:
            continue
        t, c, p = cell["type"], cell["connections"], cell["parameters"]
        if t in _BINARY:
            sa = _int(p["A_SIGNED"]) == 1 and _int(p["B_SIGNED"]) == 1
            sb = sa and t not in ("$shl", "$shr", "$sshl", "$sshr")
            operands[var] = [(c["A"], sa, True), (c["B"], sb, True)]
        elif t in _UNARY:
            ext = t in ("$not", "$neg", "$pos")
            operands[var] = [(c["A"], _int(p["A_SIGNED"]) == 1, ext)]
        elif t == "$mux":
            operands[var] = [(c["S"], False, False), (c["A"], False, True), (c["B"], False, True)]
        else:
            operands[var] = [(c["S"], False, False), (c["A"], False, False), (c["B"], False, False)]
    refs: dict[str, int] = {}
    whole: dict[str, bool] = {}
    cells_of = {cell["_var"]: cell for cell in mod["cells"].values() if "_var" in cell}

    def count(bits: list, signed: bool, ext: bool, can_inline: bool) -> None:
        for var, lo, hi, _ in w.runs(w.strip(bits, signed) if ext else bits):
            if var is None:
                continue
            refs[var] = refs.get(var, 0) + 1
            whole[var] = can_inline and not signed and lo == 0 and hi == w.width[var] - 1

    for var, ops in operands.items():
        pmux = cells_of[var]["type"] == "$pmux"
        for bits, signed, ext in ops:
            count(bits, signed, ext, not pmux)
    for cell in mod["cells"].values():
        if cell.get("_var") is None and cell["type"] != "$scopeinfo":
            for port, bits in cell["connections"].items():
                if cell["port_directions"][port] == "input":
                    count(bits, False, False, False)
    for p in ports.values():
        if p["direction"] == "output":
            count(p["bits"], False, False, False)
    w.inline_set = {
        v for v in operands if refs.get(v) == 1 and whole.get(v) and _inlinable(cells_of[v])
    }

    def rhs(var: str) -> str:
        cell = cells_of[var]
        t = cell["type"]
        ops = operands[var]
        if t in _BINARY:
            (a, sa, ea), (b, sb, eb) = ops
            return f"{w.expr(a, sa, ea)} {_BINARY[t]} {w.expr(b, sb, eb)}"
        if t in _UNARY:
            ((a, sa, ea),) = ops
            return f"{_UNARY[t]}{w.expr(a, sa, ea)}"
        (s_, _, _), (a, _, _), (b, _, _) = ops
        return f"{w.expr(s_)} ? {w.expr(b, ext=True)} : {w.expr(a, ext=True)}"

    w.rhs = rhs
    for var, cell in cells_of.items():
        c, p = cell["connections"], cell["parameters"]
        if var in w.inline_set:
            stmts = []
        elif cell["type"] == "$pmux":  # one-hot select over B's slices, A when none
            width = _int(p["WIDTH"])
            stmts = [f"{var} = {w.expr(c['A'])};"]
            for i, sb_ in enumerate(c["S"]):
                bi = c["B"][i * width : (i + 1) * width]
                stmts.append(f"if ({w.expr([sb_])}) {var} = {w.expr(bi)};")
        else:
            stmts = [f"{var} = {rhs(var)};"]
        deps: set[str] = set()
        for bits, _, _ in operands[var]:
            deps |= w.deps(bits)
        comb[var] = (stmts, deps & comb.keys())
    # memory asynchronous read ports are combinational too
    for mname, cell in mems:
        c, p = cell["connections"], cell["parameters"]
        abits, width = _int(p["ABITS"]), _int(p["WIDTH"])
        for r in range(_int(p["RD_PORTS"])):
            if p["RD_CLK_ENABLE"][::-1][r] == "1":
                continue
            addr = c["RD_ADDR"][r * abits : (r + 1) * abits]
            var = w.driver[c["RD_DATA"][r * width]][0]
            comb[var] = ([f"{var} = {mname}[{w.expr(addr)}];"], w.deps(addr) & comb.keys())

    order = _topo(comb, top)
    out_cone: set[str] = set()
    stack = [v for p in ports.values() if p["direction"] == "output" for v in w.deps(p["bits"])]
    while stack:
        v = stack.pop()
        if v in comb and v not in out_cone:
            out_cone.add(v)
            stack.extend(comb[v][1])

    body: list[str] = ["    // (1) combinational logic, in dependency order"]
    for v in order:
        body += [f"    {s}" for s in comb[v][0]]
    body.append("    // (2) synchronous read ports and flip-flops in a cycle: next state first")
    updates: list[str] = []
    flop_vars = {var for var, _, _ in flops}
    info = {}
    for var, c, p in flops:
        reads = w.deps(c["D"] + c.get("EN", []) + c.get("SRST", [])) & flop_vars - {var}
        en = None
        if "EN" in c:
            en = w.expr(c["EN"])
            en = en if _int(p["EN_POLARITY"]) == 1 else f"!{en}"
        rst = None
        if "SRST" in c:
            rst = (c["SRST"][0], _int(p["SRST_POLARITY"]))
        srst_value = f"{len(c['D'])}'b{p.get('SRST_VALUE', '0').replace('x', '0')}"
        info[var] = (reads, w.expr(c["D"], ext=True), en, rst, srst_value, bool(p.get("_CE")))
    order_f, cyclic = _update_order({v: i[0] for v, i in info.items()})
    # the most common synchronous reset is tested once for all the flip-flops it resets
    resets: dict = {}
    for var in order_f:
        r, ce = info[var][3], info[var][5]
        if r is not None and not ce:
            resets[r] = resets.get(r, 0) + 1
    group = max(resets, key=resets.get) if resets else None

    def flop_stmt(var: str, target: str, skip_group_reset: bool) -> str:
        _, d, en, rst, value, ce = info[var]
        stmt = f"{target} = {d};"
        if en is not None:
            stmt = f"if ({en}) {stmt}"
        if rst is not None and not (skip_group_reset and rst == group and not ce):
            cond = w.expr([rst[0]]) if rst[1] == 1 else f"!{w.expr([rst[0]])}"
            if ce:
                stmt = f"if ({en}) begin if ({cond}) {target} = {value}; else {target} = {d}; end"
            else:
                stmt = f"if ({cond}) {target} = {value}; else {stmt}"
        return stmt

    for var in cyclic:  # flip-flops reading each other in a loop go through temporaries
        width = w.width[var]
        w.decls.append(f"  reg [{width - 1}:0] {var}_n;")
        body.append(f"    {var}_n = {var};")
        body.append(f"    {flop_stmt(var, var + '_n', False)}")
        updates.append(f"    {var} = {var}_n;")
    direct: list[str] = []
    if group is not None:
        cond = w.expr([group[0]]) if group[1] == 1 else f"!{w.expr([group[0]])}"
        direct.append(f"    if ({cond}) begin")
        for var in order_f:
            _, _, en, rst, value, ce = info[var]
            if rst == group and not ce:
                direct.append(f"      {var} = {value};")
            else:
                direct.append(f"      {flop_stmt(var, var, False)}")
        direct.append("    end else begin")
        for var in order_f:
            direct.append(f"      {flop_stmt(var, var, True)}")
        direct.append("    end")
    else:
        direct += [f"    {flop_stmt(var, var, False)}" for var in order_f]
    mem_writes: list[str] = []
    late_reads: list[str] = []
    for mname, cell in mems:
        c, p = cell["connections"], cell["parameters"]
        abits, width = _int(p["ABITS"]), _int(p["WIDTH"])
        nwr = _int(p["WR_PORTS"])
        for k in range(nwr):
            if p["WR_CLK_ENABLE"][::-1][k] != "1" or c["WR_CLK"][k] != clk_bit:
                raise ValueError(f"{top}: memory {mname} write port {k} is not clocked by clk")
            addr = w.expr(c["WR_ADDR"][k * abits : (k + 1) * abits])
            data = c["WR_DATA"][k * width : (k + 1) * width]
            en = c["WR_EN"][k * width : (k + 1) * width]
            if len(set(map(str, en))) == 1:
                mem_writes.append(f"    if ({w.expr(en[:1])}) {mname}[{addr}] = {w.expr(data)};")
            else:
                e = w.expr(en)
                mem_writes.append(
                    f"    if (|{e}) {mname}[{addr}] = "
                    f"({mname}[{addr}] & ~{e}) | ({w.expr(data)} & {e});"
                )
        trans = p["RD_TRANSPARENCY_MASK"][::-1]
        for r in range(_int(p["RD_PORTS"])):
            if p["RD_CLK_ENABLE"][::-1][r] != "1":
                continue
            if c["RD_CLK"][r] != clk_bit:
                raise ValueError(f"{top}: memory {mname} read port {r} is not clocked by clk")
            if c["RD_SRST"][r] not in ("0", 0) or c["RD_ARST"][r] not in ("0", 0):
                raise ValueError(f"{top}: memory {mname} read port {r} has a reset")
            addr = c["RD_ADDR"][r * abits : (r + 1) * abits]
            var = w.driver[c["RD_DATA"][r * width]][0]
            rd = f"{mname}[{w.expr(addr)}]"
            en = c["RD_EN"][r]
            guard = "" if en == "1" else f"if ({w.expr([en])}) "
            if "1" in trans[r * nwr : (r + 1) * nwr]:
                # transparent: read after this cycle's writes (address from before the edge)
                tmp = f"{var}_a"
                w.decls.append(f"  reg [{abits - 1}:0] {tmp};")
                body.append(f"    {tmp} = {w.expr(addr)};")
                late_reads.append(f"    {guard}{var} = {mname}[{tmp}];")
            else:
                tmp = f"{var}_n"
                w.decls.append(f"  reg [{width - 1}:0] {tmp};")
                body.append(f"    {tmp} = {var};")
                body.append(f"    {guard}{tmp} = {rd};")
                updates.append(f"    {var} = {tmp};")
    body.append("    // (3) memory writes")
    body += mem_writes
    body.append("    // (4) state update")
    body += direct
    body += updates + late_reads
    body.append("    // (5) outputs right after the edge")
    for v in order:
        if v in out_cone:
            body += [f"    {s}" for s in comb[v][0]]

    # declarations with initial values (flip-flop init attributes, memories zeroed)
    decl: list[str] = []
    inits: list[str] = []
    internal = [v for v in w.width if v in comb or v in set(state)]
    for var in internal:
        decl.append(f"  reg [{w.width[var] - 1}:0] {var};")
    for var, c, _ in flops:
        bits = "".join(w.init_bits.get(b, "0") if isinstance(b, int) else "0" for b in c["Q"])
        bits = bits[::-1].replace("x", "0").replace("z", "0")
        inits.append(f"    {var} = {len(c['Q'])}'b{bits};")
    for var in internal:
        if var.startswith(("c", "m")):
            inits.append(f"    {var} = 0;")
    for mname, cell in mems:
        p = cell["parameters"]
        size, width, offset = _int(p["SIZE"]), _int(p["WIDTH"]), _int(p["OFFSET"])
        # two-state ``bit`` words start at zero with no loop (Icarus allocates them lazily:
        # 2**20 words of 256 bits cost 0.01 s instead of 0.7 s and 100 MB as ``reg``)
        decl.append(f"  bit [{width - 1}:0] {mname} [{offset}:{offset + size - 1}];")
        init = p.get("INIT", "")
        if "1" in init:
            bits = init[::-1]
            for a in range(size):
                word = bits[a * width : (a + 1) * width][::-1].replace("x", "0")
                if "1" in word:
                    inits.append(f"    {mname}[{offset + a}] = {width}'b{word};")
    outs = [
        f"  assign {_vname(name)} = {w.expr(p['bits'])};"
        for name, p in ports.items()
        if p["direction"] == "output"
    ]
    text = "\n".join(
        [
            "// cycle-based rewrite of the Yosys-flattened design (sim/cyclenet.py); generated",
            f"module {top}({', '.join(_vname(x).strip() for x in ports)});",
            *port_decls,
            *decl,
            *w.decls,
            "  integer i;",
            "  initial begin",
            *inits,
            "  end",
            "  always @(posedge clk) begin",
            *body,
            "  end",
            *outs,
            "endmodule",
            "",
        ]
    )
    return CycleNetlist(text, len(comb), len(flops), [m for m, _ in mems])


def _inlinable(cell: dict) -> bool:
    """Cells whose expression has exactly the cell's value in any unsigned context at least as
    wide as its output: a mux, equal-width unsigned bitwise ops, 1-bit results."""
    t, p = cell["type"], cell["parameters"]
    if t == "$mux":
        return True
    y = _int(p.get("Y_WIDTH", "0"))
    if t in ("$and", "$or", "$xor"):
        signed = _int(p["A_SIGNED"]) == 1 and _int(p["B_SIGNED"]) == 1
        return not signed and y >= max(_int(p["A_WIDTH"]), _int(p["B_WIDTH"]))
    cmp = ("$eq", "$ne", "$lt", "$le", "$gt", "$ge", "$logic_and", "$logic_or")
    return y == 1 and (t in cmp or t in _UNARY and t not in ("$not", "$neg", "$pos"))


def cell_type_ce(p: dict, c: dict) -> bool:
    """True for ``$sdffce`` (reset gated by the enable): Yosys gives it no extra parameter, so
    the caller marks it with ``_CE``; plain ``$sdffe`` resets regardless of the enable."""
    return bool(p.get("_CE"))


def _update_order(reads: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """Order flip-flop updates so each one is written before any flip-flop that reads it (a
    shift register updates from its tail); the ones in a loop are returned apart."""
    readers: dict[str, set[str]] = {v: set() for v in reads}
    for v, rs in reads.items():
        for r in rs:
            readers[r].add(v)
    # v must come before every flop in reads[v]: Kahn's algorithm on "v reads r" edges, a
    # flop is ready once every flop reading it has been placed
    pending = {v: len(readers[v]) for v in reads}
    ready = [v for v, k in pending.items() if k == 0]
    order: list[str] = []
    while ready:
        v = ready.pop()
        order.append(v)
        for r in reads[v]:
            pending[r] -= 1
            if pending[r] == 0:
                ready.append(r)
    placed = set(order)
    return order, [v for v in reads if v not in placed]


def _topo(comb: dict[str, tuple[list[str], set[str]]], top: str) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}
    for root in comb:
        if root in state:
            continue
        stack = [(root, iter(sorted(comb[root][1])))]
        state[root] = 1
        while stack:
            v, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[v] = 2
                order.append(v)
            elif state.get(nxt) == 1:
                raise ValueError(f"{top}: combinational loop through {nxt}")
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(comb[nxt][1]))))
    return order
