/* The SQL that creates schema version DB_SCHEMA_VERSION (internal to db.c). */
#ifndef HARNESS_DB_SCHEMA_H
#define HARNESS_DB_SCHEMA_H

extern const char db_schema_sql[];
/* Upgrades a version 1 file in place (run inside a transaction). */
extern const char db_migrate_v1_to_v2[];
extern const char db_migrate_v2_to_v3[];
extern const char db_migrate_v3_to_v4[];
extern const char db_migrate_v4_to_v5[];

#endif
