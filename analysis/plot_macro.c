/* The macro overhead chart: one group of bars per macro workload (and parameters, where
 * its rows differ), one bar per config, each the guest/native throughput ratio with its
 * 95% CI as an error bar, and 1.0 (virtualization costs nothing) marked across. */
#include "plot_macro.h"

#include <stdlib.h>
#include <string.h>

#include "overhead.h"

#define MAX_CFG 16
#define MAX_LABELS 128

int plot_macro(const struct dataset *ds, const char *dir, struct plot_set *ps,
               struct vmm_err *e)
{
    struct ovh_table t;
    if (overhead_build_trimmed(ds, &t, e))
        return -1;
    if (!t.n) {
        if (ps->nnotes < sizeof ps->notes / sizeof ps->notes[0])
            snprintf(ps->notes[ps->nnotes++], sizeof ps->notes[0], "macro overhead: no macro "
                     "workload ran with a native twin (vmmbench run --suite macro --native) "
                     "yet; plot skipped");
        return 0;
    }
    const char *cfg[MAX_CFG];
    char *label[MAX_LABELS];
    size_t nc = 0, nl = 0;
    for (size_t i = 0; i < t.n; i++) {
        bool dup = false;
        for (size_t k = 0; k < nc && !dup; k++)
            dup = strcmp(cfg[k], t.rows[i].config) == 0;
        if (!dup && nc < MAX_CFG)
            cfg[nc++] = t.rows[i].config;
        char lb[600];
        snprintf(lb, sizeof lb, "%s%s%s", t.rows[i].workload, t.rows[i].params[0] ? " " : "",
                 t.rows[i].params);
        dup = false;
        for (size_t k = 0; k < nl && !dup; k++)
            dup = strcmp(label[k], lb) == 0;
        if (!dup && nl < MAX_LABELS)
            label[nl++] = strdup(lb);
    }
    FILE *d, *f;
    const char *name = "macro-overhead";
    int rc = plot_pair_open(dir, name, &d, &f, e);
    for (size_t l = 0; !rc && l < nl; l++) {
        if (!label[l])
            continue;
        plot_label(d, label[l]);
        for (size_t c = 0; c < nc; c++) {
            const struct ovh_row *r = NULL;
            for (size_t i = 0; i < t.n && !r; i++) {
                char lb[600];
                snprintf(lb, sizeof lb, "%s%s%s", t.rows[i].workload,
                         t.rows[i].params[0] ? " " : "", t.rows[i].params);
                if (strcmp(t.rows[i].config, cfg[c]) == 0 && strcmp(lb, label[l]) == 0)
                    r = &t.rows[i];
            }
            if (r && r->ratio > 0 && r->lo > 0 && r->hi > 0)
                fprintf(d, " %.6g %.6g %.6g", r->ratio, r->lo, r->hi);
            else
                fputs(" ? ? ?", d);
        }
        fputc('\n', d);
    }
    const char *title = "Macro workloads: guest/native throughput per config";
    if (!rc) {
        fclose(d);
        plot_head(f, name, 1000, 560);
        fputs("  set title ", f);
        plot_quote(f, title);
        fputs("\n  set ylabel 'guest / native throughput (median, 95% CI; below 1: the guest "
              "is slower)'\n"
              "  set style data histograms\n"
              "  set style histogram errorbars gap 1 lw 1\n"
              "  set style fill solid 0.6 border -1\n"
              "  set yrange [0:*]\n"
              "  set xtics rotate by -20\n"
              "  set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#c00000' "
              "dt 2 lw 2 front\n"
              "  set label 1 '1.0: no cost' at graph 0.01, first 1.03 tc rgb '#c00000' front\n"
              "  plot ", f);
        for (size_t c = 0; c < nc; c++) {
            fprintf(f, "%s'%s.dat' using %zu:%zu:%zu%s title ", c ? ", " : "", name, 2 + 3 * c,
                    3 + 3 * c, 4 + 3 * c, c ? "" : ":xtic(1)");
            plot_quote(f, cfg[c]);
        }
        fputs("\n}\n", f);
        fclose(f);
        rc = plot_finish(ps, dir, name, title, "macro", e);
    }
    for (size_t l = 0; l < nl; l++)
        free(label[l]);
    overhead_free(&t);
    return rc;
}
