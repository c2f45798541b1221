-- Schema version 3: indexes for history queries (store/history.*, `assay regress`).
--   metric_name_result  the nightly query selects metrics by name and joins them to their
--                       result; covering (name, result_id, value) answers it from the index.
--   run_config_started  a host configuration's runs in time order.
--   result_run_status   a run's ok results without touching the others.
CREATE INDEX metric_name_result ON metric (name, result_id, value);
CREATE INDEX run_config_started ON run (hw_config_id, started_at);
CREATE INDEX result_run_status ON result (run_id, status);
