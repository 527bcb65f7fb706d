-- SMS sent per tenant and UTC day (day = Unix seconds / 86400): the per-tenant
-- daily budget, in the database so that every instance counts against one figure.
CREATE TABLE sms_budget (
    tenant_id   BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day         BIGINT  NOT NULL,
    sent        BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
