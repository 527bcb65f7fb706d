//! Hot reload of the ops policy file.

use crate::support::*;

fn replace(path: &std::path::Path, text: &str) {
    // Deploy tools write a new file and rename it over the old one.
    let tmp = path.with_extension("yaml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_file_reload_and_rejection() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let c = env.client(INTERNET);
    assert_eq!(c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(env.url(ORDINARY, "/docs/a")).send().await.unwrap().status(), 401);

    replace(&env.policy, "paths:\n  - prefix: /docs\n    action: bypass\n");
    eventually("the new policy applies", || async {
        c.get(env.url(ORDINARY, "/docs/a")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;
    assert_eq!(c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap().status(), 401);
    assert!(env.metric("gateway_policy_reloads_total{result=\"ok\"}").await >= 1.0);

    // A broken file is rejected, counted and logged with its location; the old policy stays.
    std::fs::write(&env.policy, "paths:\n  - prefix: /docs\n    action: allow-everyone\n").unwrap();
    eventually("the broken policy is counted", || async {
        env.metric("gateway_policy_reloads_total{result=\"error\"}").await >= 1.0
    })
    .await;
    assert_eq!(c.get(env.url(ORDINARY, "/docs/a")).send().await.unwrap().status(), 200);
    assert!(env.log().contains("policy.yaml:3:13"), "log lacks the location:\n{}", env.log());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reads_the_policy_again_and_keeps_serving() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let c = env.client(INTERNET);
    let ok = env.metric("gateway_policy_reloads_total{result=\"ok\"}").await;
    let pid = env.gateway_pid().expect("gateway running");
    for n in 1..=2 {
        // SAFETY: kill(2) on the child process this test started.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) }, 0);
        // The file did not change, so only the signal can have reloaded it.
        eventually("SIGHUP reloads the policy file", || async {
            env.metric("gateway_policy_reloads_total{result=\"ok\"}").await >= ok + f64::from(n)
        })
        .await;
    }
    assert_eq!(c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap().status(), 200, "still serving");
    env.cleanup().await;
}
