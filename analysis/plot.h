/* Plots through gnuplot: for each plot a data file NAME.dat and a script NAME.gp are
 * written into the output directory and gnuplot is run there, producing NAME.png and
 * NAME.svg. The scripts stay next to the images so a user can edit and re-run them
 * (`cd DIR && gnuplot NAME.gp`). Plot families and the data they read are documented in
 * analysis/README.md; a family without data is skipped with a note, never drawn empty. */
#ifndef ANALYSIS_PLOT_H
#define ANALYSIS_PLOT_H

#include <stdio.h>

#include "compare.h"
#include "dataset.h"

#define PLOT_MAX 64

struct plot_made {
    char name[128];          /* file stem: DIR/NAME.png, .svg, .gp, .dat */
    char title[200];
    char family[32];         /* exits, tlb, numa, loaded-latency, virtio, compare */
};

struct plot_set {
    struct plot_made made[PLOT_MAX];
    size_t n;
    char notes[16][240];     /* "no TLB data: skipped" and the like */
    size_t nnotes;
};

/* The gnuplot to run: $VMMB_GNUPLOT or `gnuplot` on PATH. Errors (VMM_EXIT_USAGE) say
 * how to install it. */
int plot_find_gnuplot(char *path, size_t cap, struct vmm_err *e);

/* Draws every family the dataset has data for, and the comparison's ratio chart when cmp
 * is given. dir must exist. */
int plot_all(const struct dataset *ds, const struct cmp_result *cmp, const char *dir,
             struct plot_set *out, struct vmm_err *e);

/* For plots drawn elsewhere (history.c), the same conventions: NAME.dat and NAME.gp
 * both or neither; the script head that loops over the PNG and SVG terminals (the body
 * must close its brace); a gnuplot string literal; a data-file label in double quotes;
 * running gnuplot in dir and recording the plot in ps. */
int plot_pair_open(const char *dir, const char *name, FILE **d, FILE **f, struct vmm_err *e);
void plot_head(FILE *f, const char *name, int w, int h);
void plot_quote(FILE *f, const char *s);
void plot_label(FILE *f, const char *s);
int plot_finish(struct plot_set *ps, const char *dir, const char *name, const char *title,
                const char *family, struct vmm_err *e);

#endif
