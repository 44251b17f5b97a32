// Raw Verilator reference for the accelerator top (fusesa_accel): no cocotb, no Python.
//
// Usage: harness DIR ACC_WORDS MAX_CYCLES
//   DIR/act.hex, DIR/weight.hex, DIR/cmd.hex: one "address hexword" per line (memory images,
//   the same words sim.accel.AccelJob holds). The harness resets the unit, writes the images
//   straight into the memories (backdoor), pulses start, clocks until done (at most
//   MAX_CYCLES), then writes DIR/acc.hex (ACC_WORDS hex words, address order) and
//   DIR/counters.txt ("total busy stall error run_seconds").
// Built by benchmarks/harness/build.py with the same Verilog and Verilator options as the
// cocotb bench (sim.runner), so its speed is the ceiling for the cocotb run.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "Vfusesa_accel.h"
#include "Vfusesa_accel___024root.h"
#include "verilated.h"

using Words = std::vector<uint32_t>;

static Words parse_hex(const std::string& hex) {
    Words out;
    for (long end = static_cast<long>(hex.size()); end > 0; end -= 8) {
        long begin = end >= 8 ? end - 8 : 0;
        out.push_back(static_cast<uint32_t>(std::stoul(hex.substr(begin, end - begin), nullptr, 16)));
    }
    return out;
}

static uint32_t word_at(const Words& w, size_t i) { return i < w.size() ? w[i] : 0u; }

static void put(CData& d, const Words& w) { d = static_cast<CData>(word_at(w, 0)); }
static void put(SData& d, const Words& w) { d = static_cast<SData>(word_at(w, 0)); }
static void put(IData& d, const Words& w) { d = word_at(w, 0); }
static void put(QData& d, const Words& w) {
    d = static_cast<QData>(word_at(w, 0)) | (static_cast<QData>(word_at(w, 1)) << 32);
}
template <std::size_t N>
static void put(VlWide<N>& d, const Words& w) {
    for (std::size_t i = 0; i < N; ++i) d[i] = word_at(w, i);
}

static Words get(const CData& d) { return {d}; }
static Words get(const SData& d) { return {d}; }
static Words get(const IData& d) { return {d}; }
static Words get(const QData& d) {
    return {static_cast<uint32_t>(d), static_cast<uint32_t>(d >> 32)};
}
template <std::size_t N>
static Words get(const VlWide<N>& d) {
    Words out(N);
    for (std::size_t i = 0; i < N; ++i) out[i] = d[i];
    return out;
}

template <typename Mem>
static size_t load(Mem& mem, const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::fprintf(stderr, "harness: cannot read %s\n", path.c_str());
        std::exit(2);
    }
    size_t n = 0;
    unsigned long addr;
    std::string hex;
    while (in >> addr >> hex) {
        if (addr >= mem.size()) {
            std::fprintf(stderr, "harness: %s: address %lu past the memory\n", path.c_str(), addr);
            std::exit(2);
        }
        put(mem[addr], parse_hex(hex));
        ++n;
    }
    return n;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s DIR ACC_WORDS MAX_CYCLES\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const long acc_words = std::atol(argv[2]);
    const long max_cycles = std::atol(argv[3]);
    auto* ctx = new VerilatedContext;
    auto* top = new Vfusesa_accel{ctx};
    auto tick = [&] {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
    };
    top->clk = 0;
    top->start = 0;
    top->act_we = top->w_we = top->cmd_we = 0;
    top->rst = 1;
    top->eval();
    tick();
    tick();
    top->rst = 0;
    tick();
    auto* root = top->rootp;
    load(root->fusesa_accel__DOT__act_mem__DOT__mem, dir + "/act.hex");
    load(root->fusesa_accel__DOT__w_mem__DOT__mem, dir + "/weight.hex");
    load(root->fusesa_accel__DOT__cmd_mem__DOT__mem, dir + "/cmd.hex");
    top->start = 1;
    tick();
    top->start = 0;
    auto t0 = std::chrono::steady_clock::now();
    long n = 0;
    while (!top->done && n < max_cycles) {
        tick();
        ++n;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!top->done) {
        std::fprintf(stderr, "harness: no done after %ld cycles\n", n);
        return 1;
    }
    std::ofstream acc(dir + "/acc.hex");
    auto& mem = root->fusesa_accel__DOT__acc_mem__DOT__mem;
    for (long a = 0; a < acc_words; ++a) {
        Words w = get(mem[a]);
        std::ostringstream s;
        for (long i = static_cast<long>(w.size()) - 1; i >= 0; --i) {
            char buf[9];
            std::snprintf(buf, sizeof buf, "%08x", w[i]);
            s << buf;
        }
        acc << s.str() << "\n";
    }
    std::ofstream cnt(dir + "/counters.txt");
    cnt << top->cnt_total << " " << top->cnt_busy << " " << top->cnt_stall << " "
        << static_cast<int>(top->error) << " " << secs << "\n";
    top->final();
    delete top;
    delete ctx;
    return 0;
}
