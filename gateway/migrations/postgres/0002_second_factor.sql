-- 2-step verification: enrolled methods on the user, codes and devices in their own tables.
ALTER TABLE users ADD COLUMN sms_phone TEXT;            -- E.164, set once a code to it was entered
ALTER TABLE users ADD COLUMN totp_secret TEXT;          -- encrypted with the TOTP key, the user id as associated data
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;    -- the last accepted time step: never accepted again
ALTER TABLE users ADD COLUMN last_access_at BIGINT;    -- 30 days without access asks for 2FA again

-- A second factor earned but not yet in force: the recovery code must be confirmed saved first.
ALTER TABLE sessions ADD COLUMN pending_factor TEXT;
ALTER TABLE sessions ADD COLUMN pending_remember BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sessions ADD COLUMN factor_failures BIGINT NOT NULL DEFAULT 0;

CREATE TABLE totp_pending (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE sms_codes (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    sent_at     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- One live recovery code per user; using it replaces it.
CREATE TABLE recovery_codes (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE remembered_devices (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label         TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices(user_id);

-- Consent to share line information, asked once per line for some regions.
CREATE TABLE line_consents (
    line          TEXT    PRIMARY KEY,
    user_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    consented_at  BIGINT NOT NULL
);
