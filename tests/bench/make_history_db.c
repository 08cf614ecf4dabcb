/* make_history_db PATH SETS [RUNS]: a results database of SETS run sets, one per suite
 * revision, as a CI history merged from many runs would be: run set i is tagged ci-NNNNN,
 * its host records suite_rev revNNNNN (so by time and by revision give the same points),
 * started an hour after the one before; RUNS runs a set (default 3) of workload null,
 * each 5 batches after one warm-up batch, through db_store_run like `vmmbench run`.
 * Planted, seeded:
 *   latency (ns):  1000 ns, +10% from set SETS*2/5, then -8% from set SETS*7/10;
 *   throughput (ops/s): flat at 5e6;
 * with 1% run-to-run and 0.5% batch-to-batch Gaussian noise on both. Prints the indices
 * of the first set after each latency step ("step 40 +10%"), so tests know the truth. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4)
        return fprintf(stderr, "usage: make_history_db PATH SETS [RUNS]\n"), 2;
    long sets = strtol(argv[2], NULL, 10), runs = argc == 4 ? strtol(argv[3], NULL, 10) : 3;
    if (sets < 1 || runs < 1)
        return fprintf(stderr, "make_history_db: SETS and RUNS must be positive\n"), 2;
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(argv[1], &db, &e))
        return fprintf(stderr, "%s\n", e.msg), 1;
    /* a generated file that is thrown away after the test: no fsync per run */
    sqlite3_exec(db_handle(db), "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    struct host_info h;
    hostinfo_collect(&h);
    struct bench_config c;
    config_default(&c);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 14);
    long up = sets * 2 / 5, down = sets * 7 / 10;
    printf("step %ld +10%%\nstep %ld -8%%\n", up, down);
    for (long s = 0; s < sets; s++) {
        char tag[32];
        snprintf(tag, sizeof tag, "ci-%05ld", s);
        snprintf(h.suite_rev, sizeof h.suite_rev, "rev%05ld", s);
        double lat = 1000 * (s >= up ? 1.10 : 1) * (s >= down ? 0.92 : 1);
        for (long k = 0; k < runs; k++) {
            struct vmm_result res;
            vmm_result_init(&res);
            double rl = lat * (1 + gsl_ran_gaussian(r, 0.01));
            double rt = 5e6 * (1 + gsl_ran_gaussian(r, 0.01));
            for (uint32_t b = 0; b < 6; b++) {
                vmm_result_add(&res, "latency", "ns", b, b == 0,
                               rl * (1 + gsl_ran_gaussian(r, 0.005)));
                vmm_result_add(&res, "throughput", "ops/s", b, b == 0,
                               rt * (1 + gsl_ran_gaussian(r, 0.005)));
            }
            double t0 = 1.7e9 + 3600.0 * (double)s + 60.0 * (double)k;
            struct run_spec spec = { .workload = "null", .params = "batches=5 warmup=1",
                                     .rep = (unsigned)k, .tag = tag, .started = t0,
                                     .ended = t0 + 30 };
            int64_t id;
            if (db_store_run(db, &h, &c, &spec, &res, &id, &e))
                return fprintf(stderr, "%s\n", e.msg), 1;
            vmm_result_free(&res);
        }
    }
    gsl_rng_free(r);
    hostinfo_free(&h);
    db_close(db);
    return 0;
}
