use super::{Result, Store, on_pool};

impl Store {
    /// Counts one attempt in a window shared by every instance; returns the
    /// attempts counted in it so far, this one included.
    pub async fn count_attempt(&self, scope: &str, key: &str, window_start: i64) -> Result<i64> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO throttle_windows (scope, key, window_start, hits) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (scope, key, window_start) DO UPDATE SET hits = throttle_windows.hits + 1 \
                 RETURNING hits",
            )
            .bind(scope)
            .bind(key)
            .bind(window_start)
            .fetch_one(p)
            .await?
        }))
    }
}
