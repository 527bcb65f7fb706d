//! Lines and networks by the thousand: imports written in one transaction with
//! multi-row inserts, and the paged, searched list the settings page shows.

use std::collections::HashMap;

use ipnet::IpNet;
use policy::LineId;

use super::admin::like_literal;
use super::changes::{Change, RECORD};
use super::{Pool, Result, Store, StoreError, now, on_pool};

/// Rows per INSERT: one bound parameter each (tenant and time are shared), far
/// below SQLite's limit of 32 766 and PostgreSQL's of 65 535, and large enough
/// that the round trips stop mattering.
const CHUNK: usize = 1000;

/// Rows per statement on PostgreSQL, where a chunk is one array parameter:
/// only the progress display wants chunks at all.
const PG_CHUNK: usize = 10_000;

/// The import's one recorded change, in its transaction (a macro: the two
/// databases' transactions share no executor type).
macro_rules! record_tenant {
    ($tx:expr, $tenant:expr, $at:expr) => {
        sqlx::query(RECORD).bind($at).bind(Change::Tenant($tenant).kind()).bind($tenant.to_string()).execute(&mut *$tx)
    };
}

/// `($2, $1, $3), ($4, $1, $3), …` style VALUES lists: `first` is the number
/// of the first per-row parameter, `shared` the parameters every row repeats.
fn values(rows: usize, first: usize, shared: &str) -> String {
    let mut sql = String::with_capacity(rows * 16);
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, {shared})", first + i));
    }
    sql
}

/// `$3, $4, …`: a list of `n` placeholders starting at `first`.
fn placeholders(n: usize, first: usize) -> String {
    (0..n).map(|i| format!("${}", first + i)).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Which of these lines are registered, and to which tenant.
    pub async fn line_owners(&self, lines: &[LineId]) -> Result<HashMap<LineId, i64>> {
        let mut owners = HashMap::new();
        let mut rows: Vec<(String, i64)> = Vec::new();
        match &self.pool {
            // One array parameter per statement: far fewer round trips and plans.
            Pool::Postgres(p) => {
                for chunk in lines.chunks(PG_CHUNK) {
                    let texts: Vec<&str> = chunk.iter().map(|l| l.as_str()).collect();
                    rows.extend(
                        sqlx::query_as::<_, (String, i64)>(
                            "SELECT line, tenant_id FROM tenant_lines WHERE line = ANY($1)",
                        )
                        .bind(&texts)
                        .fetch_all(p)
                        .await?,
                    );
                }
            }
            Pool::Sqlite(p) => {
                for chunk in lines.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT line, tenant_id FROM tenant_lines WHERE line IN ({})",
                        placeholders(chunk.len(), 1)
                    );
                    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
                    for line in chunk {
                        q = q.bind(line.as_str());
                    }
                    rows.extend(q.fetch_all(p).await?);
                }
            }
        }
        for (line, tenant) in rows {
            if let Ok(line) = LineId::parse(&line) {
                owners.insert(line, tenant);
            }
        }
        Ok(owners)
    }

    /// Registers lines none of which is registered yet, in one transaction with
    /// one recorded change. A line registered meanwhile (by anyone) rolls it all
    /// back as a conflict: the caller read them as new, so its report would lie.
    /// `progress` hears the number written so far after each chunk.
    pub async fn import_lines(
        &self,
        tenant_id: i64,
        lines: &[LineId],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<usize> {
        let t = now();
        let mut written = 0usize;
        let conflict = || {
            StoreError::Conflict(
                "some of the lines were registered while the import ran; nothing was added, run it again".into(),
            )
        };
        match &self.pool {
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                for chunk in lines.chunks(PG_CHUNK) {
                    let texts: Vec<&str> = chunk.iter().map(|l| l.as_str()).collect();
                    let n = sqlx::query(
                        "INSERT INTO tenant_lines (line, tenant_id, created_at) \
                         SELECT l, $1, $2 FROM UNNEST($3::text[]) AS l ON CONFLICT (line) DO NOTHING",
                    )
                    .bind(tenant_id)
                    .bind(t)
                    .bind(&texts)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as usize;
                    if n != chunk.len() {
                        return Err(conflict());
                    }
                    written += n;
                    progress(written);
                }
                record_tenant!(tx, tenant_id, t).await?;
                tx.commit().await?;
            }
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for chunk in lines.chunks(CHUNK) {
                    let sql = format!(
                        "INSERT INTO tenant_lines (line, tenant_id, created_at) VALUES {} ON CONFLICT (line) DO NOTHING",
                        values(chunk.len(), 3, "$1, $2")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(t);
                    for line in chunk {
                        q = q.bind(line.as_str());
                    }
                    let n = q.execute(&mut *tx).await?.rows_affected() as usize;
                    if n != chunk.len() {
                        return Err(conflict());
                    }
                    written += n;
                    progress(written);
                }
                record_tenant!(tx, tenant_id, t).await?;
                tx.commit().await?;
            }
        }
        Ok(written)
    }

    /// Registers networks none of which is registered to the tenant yet, as
    /// [`Store::import_lines`] does lines.
    pub async fn import_networks(
        &self,
        tenant_id: i64,
        nets: &[IpNet],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<usize> {
        let t = now();
        let mut written = 0usize;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in nets.chunks(CHUNK) {
                let sql = format!(
                    "INSERT INTO tenant_networks (cidr, tenant_id, created_at) VALUES {} ON CONFLICT DO NOTHING",
                    values(chunk.len(), 3, "$1, $2")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(t);
                for net in chunk {
                    q = q.bind(net.trunc().to_string());
                }
                let n = q.execute(&mut *tx).await?.rows_affected() as usize;
                if n != chunk.len() {
                    return Err(StoreError::Conflict(
                        "some of the networks were registered while the import ran; nothing was added, run it again"
                            .into(),
                    ));
                }
                written += n;
                progress(written);
            }
            record_tenant!(tx, tenant_id, t).await?;
            tx.commit().await?;
        });
        Ok(written)
    }

    /// One page of the tenant's lines in order, those containing `search` (taken
    /// literally, upper-cased as lines are stored), and how many match in all.
    pub async fn tenant_lines_page(
        &self,
        tenant_id: i64,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<String>, i64)> {
        let pattern = format!("%{}%", like_literal(&search.trim().to_ascii_uppercase()));
        Ok(on_pool!(self, p => {
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM tenant_lines WHERE tenant_id = $1 AND line LIKE $2 ESCAPE '\\'",
            )
            .bind(tenant_id)
            .bind(&pattern)
            .fetch_one(p)
            .await?;
            let page = sqlx::query_scalar(
                "SELECT line FROM tenant_lines WHERE tenant_id = $1 AND line LIKE $2 ESCAPE '\\' \
                 ORDER BY line LIMIT $3 OFFSET $4",
            )
            .bind(tenant_id)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await?;
            (page, total)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{placeholders, values};

    #[test]
    fn values_lists_number_each_row_and_share_the_rest() {
        assert_eq!(values(2, 3, "$1, $2"), "($3, $1, $2), ($4, $1, $2)");
        assert_eq!(placeholders(3, 1), "$1, $2, $3");
    }
}
