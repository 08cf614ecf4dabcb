/* `vmmbench plot`: placeholder until the implementation lands. */
#include <stdio.h>

#include "commands.h"

int cmd_plot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("vmmbench: plot: not implemented yet\n", stderr);
    return 2;
}
