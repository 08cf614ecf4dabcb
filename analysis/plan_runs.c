/* Runs needed to detect a change; see plan_runs.h. */
#include "plan_runs.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "summary.h"

double plan_power(double run_sd, double change, double band, double alpha, size_t n)
{
    if (n < 2)
        return 0;
    double d = fabs(log1p(change)), b = log1p(band);
    if (!(run_sd > 0))
        return d > b ? 1 : 0;
    double df = 2.0 * ((double)n - 1);
    /* the test is on run medians (a mean: SE s*sqrt(2/n)); the interval is around the
     * pooled median, whose variance is about pi/2 times that of a mean */
    double se_t = run_sd * sqrt(2.0 / (double)n), se_m = se_t * sqrt(M_PI / 2);
    double p_test = gsl_cdf_ugaussian_P((d - gsl_cdf_tdist_Pinv(1 - alpha / 2, df) * se_t) / se_t);
    double p_ci = gsl_cdf_ugaussian_P((d - gsl_cdf_tdist_Pinv(0.975, df) * se_m - b) / se_m);
    /* both must hold; they are positively correlated, so the product is a floor */
    return p_test * p_ci;
}

size_t plan_runs(double run_sd, double change, double band, double alpha)
{
    for (size_t n = 2; n <= PLAN_MAX_RUNS; n++)
        if (plan_power(run_sd, change, band, alpha, n) >= PLAN_POWER)
            return n;
    return 0;
}

void plan_print(const struct dataset *ds, double change, double band, double alpha, FILE *out)
{
    fprintf(out, "runs per side to detect a %+g%% change with %.0f%% power (p < %g and the 95%% "
            "CI beyond +-%g%%),\nfrom the run-to-run noise of %s:\n\n", change * 100,
            PLAN_POWER * 100, alpha, band * 100, ds->label);
    if (fabs(log1p(change)) <= log1p(band))
        fprintf(out, "note: a %g%% change lies inside the +-%g%% noise band and can never be a "
                "verdict; lower --threshold or plan for a larger change\n\n", change * 100,
                band * 100);
    fprintf(out, "%-14s %-28s %-16s %5s %9s %10s\n", "workload", "params", "metric", "runs",
            "run sd", "runs/side");
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        char need[64];
        double sd = NAN;
        bool pos = g->nrmed >= 2;
        for (size_t k = 0; k < g->nrmed && pos; k++)
            pos = g->rmed[k] > 0;
        if (g->nrmed < 2) {
            snprintf(need, sizeof need, "? (needs 2+ runs to know the noise)");
        } else if (!pos) {
            snprintf(need, sizeof need, "? (values <= 0)");
        } else {
            double *l = malloc(g->nrmed * sizeof *l);
            if (!l)
                return;
            for (size_t k = 0; k < g->nrmed; k++)
                l[k] = log(g->rmed[k]);
            sd = gsl_stats_sd(l, 1, g->nrmed);
            free(l);
            size_t n = plan_runs(sd, change, band, alpha);
            if (n)
                snprintf(need, sizeof need, "%zu%s", n, g->nrmed < 3 ? " (noise from 2 runs: "
                         "rough)" : "");
            else
                snprintf(need, sizeof need, "never (> %d)", PLAN_MAX_RUNS);
        }
        char sdt[32];
        if (isfinite(sd))
            snprintf(sdt, sizeof sdt, "%.2f%%", sd * 100);
        else
            snprintf(sdt, sizeof sdt, "-");
        fprintf(out, "%-14s %-28s %-16s %5zu %9s %10s\n", g->workload, *g->params ? g->params :
                "-", g->metric, g->nrmed, sdt, need);
    }
}
