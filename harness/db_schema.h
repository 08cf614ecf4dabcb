/* The SQL that creates schema version DB_SCHEMA_VERSION (internal to db.c). */
#ifndef HARNESS_DB_SCHEMA_H
#define HARNESS_DB_SCHEMA_H

extern const char db_schema_sql[];

#endif
