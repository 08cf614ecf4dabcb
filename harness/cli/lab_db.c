/* The database side of `vmmbench lab`; see lab_db.h. */
#include "lab_db.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "db.h"
#include "dbcopy.h"

int lab_db_check(const char *path, struct vmm_err *e)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        sqlite3 *h;
        if (adb_open(path, &h, e)) {
            e->code = VMM_EXIT_DATABASE;
            return -1;
        }
        sqlite3_close(h);
        if (access(path, W_OK) != 0)
            return vmm_err_set(e, VMM_EXIT_DATABASE, "lab: --db %s cannot be written (%s): "
                               "the lab's runs could not be stored there; give a writable file",
                               path, strerror(errno));
        return 0;
    }
    if (errno != ENOENT)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "lab: --db %s: %s", path, strerror(errno));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode) || access(d, W_OK | X_OK) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "lab: --db %s: its folder %s does not exist or "
                           "cannot be written; create it or give another path", path, d);
    return 0;
}

int lab_db_copy_in(const char *path, const char *dst, struct vmm_err *e)
{
    if (access(path, F_OK) != 0)
        return 0;
    sqlite3 *from = NULL, *to = NULL;
    int rc = sqlite3_open_v2(path, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
        if (!b) {
            rc = sqlite3_errcode(to);
        } else {
            rc = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
    }
    if (rc != SQLITE_OK)
        vmm_err_set(e, VMM_EXIT_DATABASE, "lab: copying %s into the lab: %s", path,
                    sqlite3_errstr(rc));
    sqlite3_close(from);
    sqlite3_close(to);
    return rc == SQLITE_OK ? 0 : -1;
}

int lab_db_merge_back(const char *path, const char *src, size_t *copied, size_t *skipped,
                      struct vmm_err *e)
{
    struct db *db;
    if (db_open(path, &db, e))
        return -1;
    int ret = dbcopy_runs(db_handle(db), src, NULL, 0, NULL, copied, skipped, e);
    db_close(db);
    return ret;
}

long lab_db_count_runs(const char *src)
{
    sqlite3 *h;
    long n = -1;
    if (sqlite3_open_v2(src, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                n = (long)sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return n;
}
