/* Schema version 1 of the results database. Raw samples are the truth; every summary is
 * derived from them. A change here means a new DB_SCHEMA_VERSION in db.h: db_open()
 * refuses files of any other version rather than guess at them. */
#include "db_schema.h"

const char db_schema_sql[] =
    "CREATE TABLE schema_version(version INTEGER NOT NULL);\n"
    /* One row per distinct host state: the fingerprint covers every field, so a changed
     * kernel, microcode, THP mode or suite revision makes a new row. */
    "CREATE TABLE hosts(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  fingerprint TEXT UNIQUE NOT NULL,\n"
    "  hostname TEXT, cpu_vendor TEXT, cpu_model TEXT, microcode TEXT, kernel TEXT,\n"
    "  cpus_online INTEGER, kvm_present INTEGER, kvm_api INTEGER, kvm_flavour TEXT,\n"
    "  kvm_modules TEXT, mmu_mode TEXT, pmu_available INTEGER, pmu_reason TEXT,\n"
    "  thp TEXT, hugepages TEXT, governor TEXT, smt TEXT, numa_nodes INTEGER,\n"
    "  suite_rev TEXT, first_seen REAL);\n"
    "CREATE TABLE configs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL, vcpus INTEGER NOT NULL, mem_bytes INTEGER NOT NULL,\n"
    "  source TEXT, text TEXT,\n"
    "  UNIQUE(name, vcpus, mem_bytes, text));\n"
    "CREATE TABLE runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id),\n"
    "  config_id INTEGER NOT NULL REFERENCES configs(id),\n"
    "  workload TEXT NOT NULL, params TEXT NOT NULL, rep INTEGER NOT NULL, tag TEXT,\n"
    "  status TEXT NOT NULL, reason TEXT,\n"
    "  started REAL, ended REAL, wall_seconds REAL, tsc_khz INTEGER, exits INTEGER,\n"
    "  console BLOB, console_truncated INTEGER);\n"
    "CREATE TABLE samples(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  metric TEXT NOT NULL, unit TEXT NOT NULL,\n"
    "  batch INTEGER NOT NULL, warmup INTEGER NOT NULL, value REAL NOT NULL);\n"
    "CREATE INDEX samples_run_metric ON samples(run_id, metric);\n";
