-- 2-step verification: enrolled methods on the user, codes and devices in their own tables.
ALTER TABLE users ADD COLUMN sms_phone TEXT;            -- E.164, set once a code to it was entered
ALTER TABLE users ADD COLUMN totp_secret TEXT;          -- encrypted with the TOTP key, the user id as associated data
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;    -- the last accepted time step: never accepted again
ALTER TABLE users ADD COLUMN last_access_at INTEGER;    -- 30 days without access asks for 2FA again

-- A second factor earned but not yet in force: the recovery code must be confirmed saved first.
ALTER TABLE sessions ADD COLUMN pending_factor TEXT;
ALTER TABLE sessions ADD COLUMN pending_remember BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE totp_pending (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sms_codes (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- One live recovery code per user; using it replaces it.
CREATE TABLE recovery_codes (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE remembered_devices (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label         TEXT,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices(user_id);

-- Consent to share line information, asked once per line for some regions.
CREATE TABLE line_consents (
    line          TEXT    PRIMARY KEY,
    user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    consented_at  INTEGER NOT NULL
);
