/* Storing samples: db_store_run of 1,000,000 samples against the plainest reference,
 * one prepared INSERT per sample in one transaction into the same schema, in the same
 * process, interleaved over fresh files. Prints both medians and the ratio. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "stats.h"

#define N 1000000
#define ROUNDS 3

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fill(struct vmm_result *r, size_t n)
{
    static const char *const metrics[] = { "latency", "latency_cycles", "timing_floor" };
    vmm_result_init(r);
    for (size_t i = 0; i < n; i++)
        vmm_result_add(r, metrics[i % 3], "ns", (uint32_t)(i / 3), false, (double)i * 0.25);
}

static struct db *fresh(const char *dir, int k, struct vmm_err *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bench%d.db", dir, k);
    struct db *db;
    return db_open(path, &db, e) ? NULL : db;
}

int main(void)
{
    char dir[] = "/tmp/vmmb-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct host_info h;
    hostinfo_collect(&h);
    struct bench_config c;
    config_default(&c);
    struct run_spec spec = { .workload = "bench", .params = "" };
    struct vmm_result big, empty;
    fill(&big, N);
    fill(&empty, 0);
    double t_store[ROUNDS], t_plain[ROUNDS];
    struct vmm_err e = { 0 };
    for (int r = 0; r < ROUNDS; r++) {
        struct db *db = fresh(dir, 2 * r, &e);
        int64_t id;
        if (!db)
            return fprintf(stderr, "%s\n", e.msg), 1;
        double t0 = now();
        if (db_store_run(db, &h, &c, &spec, &big, &id, &e))
            return fprintf(stderr, "%s\n", e.msg), 1;
        t_store[r] = now() - t0;
        db_close(db);

        db = fresh(dir, 2 * r + 1, &e);
        if (!db || db_store_run(db, &h, &c, &spec, &empty, &id, &e))
            return fprintf(stderr, "%s\n", e.msg), 1;
        sqlite3 *s = db_handle(db);
        sqlite3_stmt *st;
        t0 = now();
        sqlite3_exec(s, "BEGIN", 0, 0, 0);
        sqlite3_prepare_v2(s, "INSERT INTO samples(run_id, metric, unit, batch, warmup, value) "
                           "VALUES (?,?,?,?,?,?)", -1, &st, NULL);
        for (size_t i = 0; i < big.nsamples; i++) {
            const struct vmm_sample *x = &big.samples[i];
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, x->metric, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, x->unit, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 4, (int)x->batch);
            sqlite3_bind_int(st, 5, x->warmup);
            sqlite3_bind_double(st, 6, x->value);
            if (sqlite3_step(st) != SQLITE_DONE)
                return fprintf(stderr, "insert: %s\n", sqlite3_errmsg(s)), 1;
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        sqlite3_exec(s, "COMMIT", 0, 0, 0);
        t_plain[r] = now() - t0;
        db_close(db);
    }
    stats_sort(t_store, ROUNDS);
    stats_sort(t_plain, ROUNDS);
    double a = stats_quantile_sorted(t_store, ROUNDS, 0.5);
    double b = stats_quantile_sorted(t_plain, ROUNDS, 0.5);
    printf("store_s %.3f plain_s %.3f ratio %.3f\n", a, b, a / b);
    vmm_result_free(&big);
    hostinfo_free(&h);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
