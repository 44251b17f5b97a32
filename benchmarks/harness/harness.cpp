// Raw Verilator reference for the accelerator top (fusesa_accel): no cocotb, no Python.
//
// Usage: harness DIR ACC_WORDS MAX_CYCLES
//   Runs in DIR, which holds the $readmemh image files of the bench top (fusesa_act.hex,
//   fusesa_w.hex, fusesa_cmd.hex, as sim.memfiles.write_image writes them). The harness resets
//   the unit, pulses the load_* pins (the bench top $readmemh's the files), pulses start, clocks
//   until done (at most MAX_CYCLES), pulses dump_acc (fusesa_acc.hex, ACC_WORDS words) and
//   writes DIR/counters.txt ("total busy stall error run_seconds").
// Built by benchmarks/harness/raw.py from the same Verilog, bench top, .vlt and Verilator
// options as the cocotb bench (sim.runner), so its speed is the ceiling for the cocotb run.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "Vfusesa_accel_tb.h"
#include "verilated.h"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s DIR ACC_WORDS MAX_CYCLES\n", argv[0]);
        return 2;
    }
    if (chdir(argv[1]) != 0) {
        std::fprintf(stderr, "harness: cannot enter %s\n", argv[1]);
        return 2;
    }
    const long acc_words = std::atol(argv[2]);
    const long max_cycles = std::atol(argv[3]);
    auto* ctx = new VerilatedContext;
    auto* top = new Vfusesa_accel_tb{ctx};
    auto tick = [&] {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
    };
    top->clk = 0;
    top->start = 0;
    top->act_we = top->w_we = top->cmd_we = 0;
    top->load_act_mem = top->load_w_mem = top->load_cmd_mem = top->dump_acc = 0;
    top->rst = 1;
    top->eval();
    tick();
    tick();
    top->rst = 0;
    tick();
    tick();  // the bench top registers rst and start
    top->load_act_mem = top->load_w_mem = top->load_cmd_mem = 1;
    top->eval();
    top->load_act_mem = top->load_w_mem = top->load_cmd_mem = 0;
    tick();
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
    top->dump_n = static_cast<uint32_t>(acc_words);
    top->dump_acc = 1;
    top->eval();
    top->dump_acc = 0;
    top->eval();
    std::ofstream cnt("counters.txt");
    cnt << top->cnt_total << " " << top->cnt_busy << " " << top->cnt_stall << " "
        << static_cast<int>(top->error) << " " << secs << "\n";
    top->final();
    delete top;
    delete ctx;
    return 0;
}
