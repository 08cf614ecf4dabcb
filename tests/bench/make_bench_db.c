/* make_bench_db PATH: a results database of 1,000 runs and 1,000,000 samples for the
 * analysis speed targets: 7 exit workloads x 2 configs, runs spread over them, each run
 * 1,000 samples (latency, latency_cycles, timing_floor, warm-up batches flagged). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

#define RUNS 1000
#define PER_RUN 1000

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: make_bench_db PATH\n"), 2;
    static const char *const wl[] = { "null", "cpuid", "pio-user", "mmio-user", "hypercall",
                                      "rdmsr", "wrmsr" };
    static const char *const metrics[] = { "latency", "latency_cycles", "timing_floor" };
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(argv[1], &db, &e))
        return fprintf(stderr, "%s\n", e.msg), 1;
    struct host_info h;
    hostinfo_collect(&h);
    struct bench_config c[2];
    config_default(&c[0]);
    config_default(&c[1]);
    snprintf(c[1].name, sizeof c[1].name, "hugepages");
    c[1].mem_bytes *= 2;
    for (int r = 0; r < RUNS; r++) {
        struct vmm_result res;
        vmm_result_init(&res);
        double base = 1000.0 * (1 + r % 7);
        for (int i = 0; i < PER_RUN; i++) {
            int m = i % 3;
            double v = (m == 2 ? 0.8 : base * (m ? 2.3 : 1)) * (1 + 0.01 * sin(i * 0.7 + r));
            vmm_result_add(&res, metrics[m], m ? "cycles" : "ns", (uint32_t)(i / 3), i < 9, v);
        }
        struct run_spec spec = { .workload = wl[r % 7], .params = "batches=333 ring=3",
                                 .rep = (unsigned)(r / 14), .tag = r < 500 ? "base" : "cand",
                                 .started = r, .ended = r + 0.5 };
        int64_t id;
        if (db_store_run(db, &h, &c[(r / 7) % 2], &spec, &res, &id, &e))
            return fprintf(stderr, "%s\n", e.msg), 1;
        vmm_result_free(&res);
    }
    db_close(db);
    return 0;
}
