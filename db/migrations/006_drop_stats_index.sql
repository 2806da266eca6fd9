-- calls_stats_idx (004) carried turn_count, so every turn's update of a call touched all of the
-- table's indexes instead of staying a heap-only (HOT) update; measured at a million calls,
-- GET /v1/stats answers as fast from calls_started_idx and the heap (bench/operators-million.ts).
DROP INDEX IF EXISTS calls_stats_idx;
