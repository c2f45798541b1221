-- Assay result store, schema version 1 (PRAGMA user_version = 1, application_id = 'ASSY').
--
-- Identity is layered, from the machine down to a single number:
--   host       one physical or virtual machine over its lifetime: machine id + hostname.
--   hw_config  a snapshot of that host's hardware/software as the probe saw it. Its fingerprint
--              hashes an explicit key list (fingerprint_keys, kept verbatim); a driver, BIOS or
--              memory change makes a new hw_config for the same host. probe_json keeps the full
--              HostInfo so reports can show "what changed". instance_type is DMI product_name.
--   run        one invocation of `assay run` on one hw_config, with its provenance (tool, git sha,
--              compiler, environment) and lifecycle (running -> complete | incomplete).
--   case       what was measured: benchmark + canonical key=value params. Shared by all runs
--              and hosts, so results match across them.
--   result     one case measured on one device/backend within a run: every raw sample (BLOB of
--              little-endian IEEE-754 doubles, in measurement order) plus summary statistics.
--   metric     named values hanging off a result (derived throughput, counters, telemetry),
--              each with its unit and which direction is better.
-- Timestamps are UTC ISO-8601 text. Every table is STRICT.

CREATE TABLE host (
    id          INTEGER PRIMARY KEY,
    machine_id  TEXT NOT NULL,
    hostname    TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    UNIQUE (machine_id, hostname)
) STRICT;
CREATE INDEX host_hostname ON host (hostname);

CREATE TABLE hw_config (
    id                INTEGER PRIMARY KEY,
    host_id           INTEGER NOT NULL REFERENCES host (id),
    fingerprint       TEXT NOT NULL,
    fingerprint_keys  TEXT NOT NULL,
    probe_json        TEXT NOT NULL,
    cpu_model         TEXT,
    instance_type     TEXT,
    first_seen        TEXT NOT NULL,
    UNIQUE (host_id, fingerprint)
) STRICT;
CREATE INDEX hw_config_fingerprint ON hw_config (fingerprint);
CREATE INDEX hw_config_instance_type ON hw_config (instance_type);

CREATE TABLE run (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    hw_config_id      INTEGER NOT NULL REFERENCES hw_config (id),
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    status            TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
    status_note       TEXT NOT NULL DEFAULT '',
    tool_version      TEXT NOT NULL DEFAULT '',
    git_sha           TEXT NOT NULL DEFAULT '',
    compiler          TEXT NOT NULL DEFAULT '',
    compiler_flags    TEXT NOT NULL DEFAULT '',
    build_type        TEXT NOT NULL DEFAULT '',
    command_line      TEXT NOT NULL DEFAULT '',
    suite             TEXT NOT NULL DEFAULT '',
    pid               INTEGER NOT NULL DEFAULT 0,
    environment_json  TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX run_hw_config ON run (hw_config_id);
CREATE INDEX run_started_at ON run (started_at);
CREATE INDEX run_status ON run (status);

CREATE TABLE run_tag (
    run_id  INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_tag_tag ON run_tag (tag);

CREATE TABLE "case" (
    id         INTEGER PRIMARY KEY,
    benchmark  TEXT NOT NULL,
    params     TEXT NOT NULL,
    family     TEXT NOT NULL,
    UNIQUE (benchmark, params)
) STRICT;
CREATE INDEX case_family ON "case" (family);

-- device/backend are NOT NULL ('' when not applicable) so the UNIQUE key really is unique.
-- Statistics are NULL when there are no samples (skipped or failed before measuring).
CREATE TABLE result (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    case_id       INTEGER NOT NULL REFERENCES "case" (id),
    device        TEXT NOT NULL,
    backend       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    message       TEXT NOT NULL DEFAULT '',
    unit          TEXT NOT NULL DEFAULT '',
    sample_count  INTEGER NOT NULL DEFAULT 0,
    samples       BLOB,
    min           REAL,
    median        REAL,
    mean          REAL,
    stddev        REAL,
    q1            REAL,
    q3            REAL,
    iqr           REAL,
    max           REAL,
    verified      INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    verification  TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL DEFAULT '',
    wall_seconds  REAL,
    UNIQUE (run_id, case_id, device, backend)
) STRICT;
CREATE INDEX result_case ON result (case_id);

-- SQLite stores NaN as NULL, so a NULL metric value (or statistic of a non-empty sample set)
-- reads back as NaN.
CREATE TABLE metric (
    id         INTEGER PRIMARY KEY,
    result_id  INTEGER NOT NULL REFERENCES result (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      REAL,
    unit       TEXT NOT NULL DEFAULT '',
    direction  TEXT NOT NULL CHECK (direction IN ('higher', 'lower', 'none')),
    UNIQUE (result_id, name)
) STRICT;
CREATE INDEX metric_name ON metric (name);
