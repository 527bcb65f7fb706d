-- Times are Unix seconds (BIGINT) in both databases so the code reads them alike.
CREATE TABLE tenants (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    plan        TEXT    NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'trial')),
    route       TEXT    NOT NULL DEFAULT 'line-and-internet' CHECK (route IN ('line-and-internet', 'line-only')),
    two_factor  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- A carrier line belongs to one contract at a time.
CREATE TABLE tenant_lines (
    line        TEXT    PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tenant_lines_tenant ON tenant_lines(tenant_id);

CREATE TABLE tenant_networks (
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    cidr        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, cidr)
);

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email          TEXT    NOT NULL UNIQUE,  -- canonical: trimmed, lower case
    role           TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'user')),
    login_method   TEXT    NOT NULL DEFAULT 'password' CHECK (login_method IN ('password', 'federated')),
    password_hash  TEXT,                     -- NULL until the invitation is accepted
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    locked_at      BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_one_owner ON users(tenant_id) WHERE role = 'owner';

-- Only the SHA-256 of a session id is stored: a copy of this table logs nobody in.
CREATE TABLE sessions (
    id_hash        TEXT    PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    host_kind      TEXT    NOT NULL CHECK (host_kind IN ('ordinary', 'line-auth')),
    second_factor  TEXT,
    line           TEXT,
    client_ip      TEXT,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Emailed links of every purpose (invite, unlock, reset, email change): hash only, single use.
CREATE TABLE link_tokens (
    token_hash  TEXT    PRIMARY KEY,
    purpose     TEXT    NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    payload     TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX link_tokens_user_purpose ON link_tokens(user_id, purpose);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    tenant_id   BIGINT,
    actor       TEXT,
    subject     TEXT,
    event       TEXT    NOT NULL,
    client_ip   TEXT,
    host_kind   TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_tenant_at ON audit_log(tenant_id, at);

-- Bumped by every change that gateways cache (policy, users, sessions); each
-- gateway polls it and reloads when it moves.
CREATE TABLE change_log (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO change_log (id, generation) VALUES (1, 0);
