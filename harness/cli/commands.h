/* The `vmmbench` subcommands. Each takes the arguments after its own name (argv[0] is
 * the subcommand), prints its own --help, and returns an enum vmm_exit_code. */
#ifndef HARNESS_CLI_COMMANDS_H
#define HARNESS_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_lab(int argc, char **argv);

/* Prints "vmmbench: MSG" for a failed command and returns its exit code. */
struct vmm_err;
int cli_fail(const struct vmm_err *e);

/* The database used when --db is not given: $VMMB_DB when set (`vmmbench lab` points
 * the command it runs at the lab's copy of --db this way), else CLI_BUILTIN_DB. */
#define CLI_BUILTIN_DB "results/vmmbench.db"
const char *cli_default_db(void);
#define CLI_DEFAULT_DB cli_default_db()

#endif
