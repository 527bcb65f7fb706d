-- What changed, one row per change, so that every instance applies exactly
-- that change: a session revoked, a user's sessions outdated, a tenant's
-- route, lines or networks. `seq` orders them: an instance that missed
-- notifications (reconnect, restart) reads on from the last one it applied.
-- Rows are pruned after an hour; an instance further behind reloads whole.
-- (change_log, the old single counter, is no longer read or written: instances
-- of the previous version follow it, these follow change_events, so the two
-- versions do not see each other's changes. Upgrade all instances together.)
CREATE TABLE change_events (
    seq     BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    kind    TEXT   NOT NULL CHECK (kind IN ('session', 'user', 'tenant', 'all')),
    target  TEXT   NOT NULL
);
CREATE INDEX change_events_at ON change_events(at);

-- Every instance LISTENs on gateway_changes; the payload is the row itself
-- ("seq kind target"), so applying a change costs no query.
CREATE FUNCTION gateway_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('gateway_changes', NEW.seq || ' ' || NEW.kind || ' ' || NEW.target);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER change_events_notify AFTER INSERT ON change_events
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change();

-- Throttle windows shared by every instance: attempts per key (a client
-- address, a user) per fixed window.
CREATE TABLE throttle_windows (
    scope   TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    hits    BIGINT NOT NULL,
    PRIMARY KEY (scope, key, window_start)
);
CREATE INDEX throttle_windows_start ON throttle_windows(window_start);
