-- Schema version 4: provenance of ingested runs (owned by store/merge.*).
--   ingest              one `assay ingest` of one source file that added at least one run:
--                       what the file was (absolute path, kind, sha256 of its bytes), when it
--                       was ingested and how many runs it added / already held.
--   run.ingest_id       the ingest that brought the run here; NULL for runs measured into this
--                       file directly.
--   run.source_run_id   the run's id in the source file (Assay DB), NULL otherwise.
-- Runs are identified across files by run.uuid (UNIQUE), so ingesting a file twice adds nothing.
CREATE TABLE ingest (
    id             INTEGER PRIMARY KEY,
    source_path    TEXT NOT NULL,
    source_kind    TEXT NOT NULL CHECK (source_kind IN ('assay', 'gbench')),
    source_sha256  TEXT NOT NULL,
    ingested_at    TEXT NOT NULL,
    runs_added     INTEGER NOT NULL DEFAULT 0,
    runs_present   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX ingest_sha256 ON ingest (source_sha256);

ALTER TABLE run ADD COLUMN ingest_id INTEGER REFERENCES ingest (id);
ALTER TABLE run ADD COLUMN source_run_id INTEGER;
CREATE INDEX run_ingest ON run (ingest_id);
