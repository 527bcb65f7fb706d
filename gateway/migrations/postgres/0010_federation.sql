-- Federated accounts and tenant directories (SPEC section 9).

-- The one provider account a federated user signs in with. Bound by
-- (issuer, subject), never by the address the provider reports; a user with a
-- row here has login_method 'federated' and no password.
CREATE TABLE federated_identities (
    user_id     BIGINT    PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    provider    TEXT    NOT NULL,  -- a login.providers id, or 'ad'
    issuer      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    created_at  BIGINT    NOT NULL,
    UNIQUE (issuer, subject)
);

-- A tenant's own directory (AD FS, Entra ID) spoken to over OpenID Connect.
-- The client secret is sealed with the gateway's secret key, as TOTP secrets are.
CREATE TABLE directories (
    tenant_id      BIGINT    PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id  TEXT    NOT NULL UNIQUE,
    issuer         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    client_secret  TEXT    NOT NULL,
    created_at     BIGINT    NOT NULL,
    updated_at     BIGINT    NOT NULL
);

-- Sign-ins started at a provider and not yet back. Only hashes: the state's,
-- and the browser cookie's that the nonce and PKCE verifier are derived from,
-- so a copy of this table cannot finish anyone's sign-in. Taken (deleted) by
-- the first callback that names the state.
CREATE TABLE federation_flows (
    state_hash    TEXT    PRIMARY KEY,
    browser_hash  TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    tenant_id     BIGINT,             -- a directory's tenant
    purpose       TEXT    NOT NULL CHECK (purpose IN ('login', 'reauth', 'invite', 'method-link', 'own-method')),
    host_kind     TEXT    NOT NULL CHECK (host_kind IN ('ordinary', 'line-auth')),
    rd            TEXT,
    user_id       BIGINT,             -- whom a reauth or a method change is for
    ticket_hash   TEXT,             -- the invitation or method-change link it completes
    session_hash  TEXT,             -- the session that started a reauth or own-method change
    created_at    BIGINT    NOT NULL,
    expires_at    BIGINT    NOT NULL
);
CREATE INDEX federation_flows_expiry ON federation_flows(expires_at);
