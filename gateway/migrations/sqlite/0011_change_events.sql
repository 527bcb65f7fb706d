-- What changed, one row per change (see the PostgreSQL migration). With
-- SQLite there is one gateway; the table carries changes made by the command
-- line to the running gateway, which reads on from the last one it applied.
CREATE TABLE change_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    kind    TEXT   NOT NULL CHECK (kind IN ('session', 'user', 'tenant', 'all')),
    target  TEXT   NOT NULL
);
CREATE INDEX change_events_at ON change_events(at);

-- Unused with SQLite (one instance counts in memory); kept for a like schema.
CREATE TABLE throttle_windows (
    scope   TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    hits    BIGINT NOT NULL,
    PRIMARY KEY (scope, key, window_start)
);
CREATE INDEX throttle_windows_start ON throttle_windows(window_start);
