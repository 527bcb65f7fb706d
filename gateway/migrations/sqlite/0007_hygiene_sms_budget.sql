-- SMS sent per tenant and UTC day (day = Unix seconds / 86400): the per-tenant
-- daily budget, in the database so that every instance counts against one figure.
CREATE TABLE sms_budget (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day         INTEGER NOT NULL,
    sent        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
