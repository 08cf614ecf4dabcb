/* One error type for the whole suite: a distinct exit code per kind of problem and a
 * single line that names the problem and the fix. Every layer fills it; only main()
 * prints it. */
#ifndef VMM_ERROR_H
#define VMM_ERROR_H

enum vmm_exit_code {
    VMM_EXIT_OK = 0,
    VMM_EXIT_RUNS_FAILED = 1,   /* the command worked, but some runs timed out or crashed */
    VMM_EXIT_USAGE = 2,         /* bad command line, unknown workload or parameter */
    VMM_EXIT_CONFIG = 3,        /* malformed or invalid configuration file */
    VMM_EXIT_NO_KVM = 4,        /* /dev/kvm missing, not accessible, or wrong API */
    VMM_EXIT_DATABASE = 5,      /* database unwritable, corrupt, or another schema version */
    VMM_EXIT_GUEST_IMAGE = 6,   /* guest kernel ELF invalid */
    VMM_EXIT_RESOURCES = 7,     /* memory size does not parse or does not fit the host */
    VMM_EXIT_SCHEDULER = 8,     /* campaign: Slurm missing, refused a job, or still holds it */
    VMM_EXIT_INTERNAL = 9,      /* a host system call failed unexpectedly */
};

#define VMM_ERR_MSG_MAX 512

struct vmm_err {
    int code;                   /* enum vmm_exit_code; 0 when no error */
    char msg[VMM_ERR_MSG_MAX];
};

/* Records the first error only: the root cause, not its consequences. Returns -1 so
 * callers can `return vmm_err_set(...)`. */
int vmm_err_set(struct vmm_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
