-- Schema version 2.
--   result.implementation  what actually ran (oneDNN primitive implementation, cuBLASLt
--                          algorithm, SIMD path), as the library reports it; '' when unknown.
--   ceiling                the run's measured capabilities under stable names (per-level
--                          bandwidth and latency, DRAM STREAM bandwidth, GEMM per dtype),
--                          derived from its verified results when the run ends. basis says how;
--                          source_result_id points at the result the value came from.
ALTER TABLE result ADD COLUMN implementation TEXT NOT NULL DEFAULT '';

CREATE TABLE ceiling (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    device            TEXT NOT NULL,
    name              TEXT NOT NULL,
    value             REAL,
    unit              TEXT NOT NULL DEFAULT '',
    direction         TEXT NOT NULL CHECK (direction IN ('higher', 'lower', 'none')),
    basis             TEXT NOT NULL DEFAULT '',
    source_result_id  INTEGER REFERENCES result (id) ON DELETE SET NULL,
    UNIQUE (run_id, device, name)
) STRICT;
CREATE INDEX ceiling_name ON ceiling (name);
