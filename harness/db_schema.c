/* The schema of the results database (version DB_SCHEMA_VERSION in db.h). Raw samples are the truth; every summary is
 * derived from them. A change here means a new DB_SCHEMA_VERSION in db.h and a migration
 * step below: db_open() upgrades older files it knows in one transaction and refuses
 * newer or unknown ones rather than guess at them.
 *
 * Version 2 added the host topology (hwloc) and placement: what each run asked for, what
 * was observed, and whether they matched. */
#include "db_schema.h"

/* One row per observed fact: a vCPU's CPUs, a guest node's pages, huge-page backing;
 * `ok` says whether it matches what was requested. */
#define PLACEMENT_TABLE                                                                   \
    "CREATE TABLE placement(\n"                                                           \
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"                                    \
    "  kind TEXT NOT NULL, subject INTEGER NOT NULL, moment TEXT NOT NULL,\n"             \
    "  requested TEXT, observed TEXT, ok INTEGER NOT NULL);\n"                            \
    "CREATE INDEX placement_run ON placement(run_id);\n"

/* Version 5: which VMM ran the config and its version ("vmm-min", or QEMU's first
 * --version line). Both are in the UNIQUE key: the same file run under two QEMU builds
 * is two configs, so their runs never mix. NOT NULL with vmm-min's defaults, because
 * UNIQUE never matches NULLs and rows from older files were all vmm-min's. */
#define CONFIGS_TABLE(NAME)                                                               \
    "CREATE TABLE " NAME "(\n"                                                            \
    "  id INTEGER PRIMARY KEY,\n"                                                         \
    "  name TEXT NOT NULL, vcpus INTEGER NOT NULL, mem_bytes INTEGER NOT NULL,\n"         \
    "  source TEXT, text TEXT,\n"                                                         \
    "  hypervisor TEXT NOT NULL DEFAULT 'vmm-min',\n"                                     \
    "  hypervisor_version TEXT NOT NULL DEFAULT 'vmm-min',\n"                             \
    "  UNIQUE(name, vcpus, mem_bytes, text, hypervisor, hypervisor_version));\n"

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
    "  suite_rev TEXT, first_seen REAL,\n"
    "  topology_summary TEXT, numa_distances TEXT, topology_xml TEXT,\n"
    "  emulated TEXT,\n"
    "  halt_poll_ns INTEGER, apicv TEXT, apic_mode TEXT);\n"
    CONFIGS_TABLE("configs")
    "CREATE TABLE runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id),\n"
    "  config_id INTEGER NOT NULL REFERENCES configs(id),\n"
    "  workload TEXT NOT NULL, params TEXT NOT NULL, rep INTEGER NOT NULL, tag TEXT,\n"
    "  status TEXT NOT NULL, reason TEXT,\n"
    "  started REAL, ended REAL, wall_seconds REAL, tsc_khz INTEGER, exits INTEGER,\n"
    "  console BLOB, console_truncated INTEGER,\n"
    "  placement_requested TEXT, placement_mismatch TEXT);\n"
    PLACEMENT_TABLE
    "CREATE TABLE samples(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  metric TEXT NOT NULL, unit TEXT NOT NULL,\n"
    "  batch INTEGER NOT NULL, warmup INTEGER NOT NULL, value REAL NOT NULL);\n"
    "CREATE INDEX samples_run_metric ON samples(run_id, metric);\n";

const char db_migrate_v1_to_v2[] =
    "ALTER TABLE hosts ADD COLUMN topology_summary TEXT;\n"
    "ALTER TABLE hosts ADD COLUMN numa_distances TEXT;\n"
    "ALTER TABLE hosts ADD COLUMN topology_xml TEXT;\n"
    "ALTER TABLE runs ADD COLUMN placement_requested TEXT;\n"
    "ALTER TABLE runs ADD COLUMN placement_mismatch TEXT;\n"
    PLACEMENT_TABLE
    "UPDATE schema_version SET version = 2;\n";

/* Version 3: hosts say whether they are emulated (the lab), so its figures are labelled. */
const char db_migrate_v2_to_v3[] =
    "ALTER TABLE hosts ADD COLUMN emulated TEXT;\n"
    "UPDATE schema_version SET version = 3;\n";

/* Version 4: the host's interrupt facts (issue 13): KVM's halt polling, APIC
 * virtualization (posted interrupts, AVIC) and the APIC mode, which decide interrupt and
 * wake-up latencies. */
const char db_migrate_v3_to_v4[] =
    "ALTER TABLE hosts ADD COLUMN halt_poll_ns INTEGER;\n"
    "ALTER TABLE hosts ADD COLUMN apicv TEXT;\n"
    "ALTER TABLE hosts ADD COLUMN apic_mode TEXT;\n"
    "UPDATE schema_version SET version = 4;\n";

/* Version 5: a UNIQUE constraint cannot be altered in SQLite, so the configs table is
 * rebuilt (SQLite's documented 12-step way: new table, copy, drop, rename), keeping every
 * id so runs.config_id still points at its row; foreign keys are off during the upgrade
 * (db_open turns them on after it). Every old config ran under vmm-min. */
const char db_migrate_v4_to_v5[] =
    CONFIGS_TABLE("configs_v5")
    "INSERT INTO configs_v5(id, name, vcpus, mem_bytes, source, text) "
    "SELECT id, name, vcpus, mem_bytes, source, text FROM configs;\n"
    "DROP TABLE configs;\n"
    "ALTER TABLE configs_v5 RENAME TO configs;\n"
    "UPDATE schema_version SET version = 5;\n";
