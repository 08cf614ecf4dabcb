/* `vmmbench report`: placeholder until the implementation lands. */
#include <stdio.h>

#include "commands.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("vmmbench: report: not implemented yet\n", stderr);
    return 2;
}
