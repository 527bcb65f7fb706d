use super::{Result, Store, now, on_pool};

impl Store {
    /// Counts one SMS against the tenant's budget for today (UTC) if it is
    /// below `limit`; false when today's budget is spent. One statement, so
    /// instances sending at once can never overshoot together. `limit` 0: no limit.
    pub async fn take_sms_budget(&self, tenant_id: i64, limit: u32) -> Result<bool> {
        if limit == 0 {
            return Ok(true);
        }
        let day = now().div_euclid(86_400);
        let sent: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO sms_budget (tenant_id, day, sent) VALUES ($1, $2, 1) \
                 ON CONFLICT (tenant_id, day) DO UPDATE SET sent = sms_budget.sent + 1 WHERE sms_budget.sent < $3 \
                 RETURNING sent",
            )
            .bind(tenant_id)
            .bind(day)
            .bind(i64::from(limit))
            .fetch_optional(p)
            .await?
        });
        Ok(sent.is_some())
    }
}
