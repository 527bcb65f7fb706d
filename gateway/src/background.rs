//! Work done after the answer is sent: what an answer must neither wait for
//! nor reveal by its duration (whether a forgot-password address has an
//! account). Bounded, so that a stranger cannot make the gateway queue work
//! without limit: past [`CAPACITY`] jobs pending or running, new ones are
//! dropped, logged and counted in `gateway_background_jobs_dropped_total`.

use std::future::Future;
use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;

/// Jobs pending or running at once, for the whole process.
pub const CAPACITY: usize = 256;

static SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(CAPACITY)));

static DROPPED: LazyLock<Option<prometheus::IntCounter>> = LazyLock::new(|| {
    let c = prometheus::IntCounter::new(
        "gateway_background_jobs_dropped_total",
        "Background jobs (e.g. forgot-password mails) dropped because the queue was full.",
    )
    .ok()?;
    let _ = prometheus::register(Box::new(c.clone()));
    Some(c)
});

/// Starts `job` on the current runtime unless the queue is full; returns
/// whether it was started. The caller answers the same either way.
pub fn spawn(what: &'static str, job: impl Future<Output = ()> + Send + 'static) -> bool {
    LazyLock::force(&DROPPED);
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!(what, "background job dropped: no async runtime");
        return false;
    };
    let Ok(slot) = Arc::clone(&SLOTS).try_acquire_owned() else {
        if let Some(c) = DROPPED.as_ref() {
            c.inc();
        }
        tracing::warn!(what, capacity = CAPACITY, "background job dropped: the queue is full");
        return false;
    };
    runtime.spawn(async move {
        job.await;
        drop(slot);
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_is_bounded() {
        let (release, hold) = tokio::sync::watch::channel(false);
        let mut started = 0;
        for _ in 0..CAPACITY + 10 {
            let mut hold = hold.clone();
            if spawn("test", async move {
                let _ = hold.wait_for(|go| *go).await;
            }) {
                started += 1;
            }
        }
        assert_eq!(started, CAPACITY);
        release.send(true).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while SLOTS.available_permits() < CAPACITY {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        assert!(spawn("test", async {}));
    }
}
