/* Running `vmmbench lab`'s launcher as system(3) runs a command, but with the signals
 * that should stop the lab passed on: Ctrl-C (SIGINT, SIGQUIT) reaches the launcher and
 * QEMU through the terminal's process group and is ignored here; a SIGTERM or SIGHUP
 * sent to vmmbench alone is forwarded to the launcher, which stops QEMU. Either way
 * vmmbench lives on to store what the lab left and remove its work folder. */
#ifndef HARNESS_CLI_LAB_LAUNCH_H
#define HARNESS_CLI_LAB_LAUNCH_H

/* Runs ARGV (argv[0] an executable path, NULL-terminated) and returns its exit status,
 * 128 + N for a signal N, or -1 (errno set) when it could not be started; a failed exec
 * exits the child with NO_START. */
int lab_launch(char *const argv[], int no_start);

#endif
