-- Invitations a tenant's admins sent and nobody has accepted yet, one per
-- tenant and address. Written for every invitation, also for an address that
-- already has an account in another tenant (which gets no users row): the
-- console lists this table, so it cannot tell the two kinds apart. Removed when
-- the invitee registers; kept after `expires_at`, shown as expired.
CREATE TABLE invitations (
    tenant_id   BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    sent_at     BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, email)
);

-- Invitations sent before this table existed, so that they look like the ones
-- sent after (the link's default validity stands in for the configured one).
INSERT INTO invitations (tenant_id, email, role, sent_at, expires_at)
    SELECT tenant_id, email, role, created_at, created_at + 1209600 FROM users
    WHERE password_hash IS NULL AND role <> 'owner';
