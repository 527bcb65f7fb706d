//! Wiring for `gateway serve`: the store, the policy, the reloaders and the
//! Pingora services.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use pingora::apps::http_app::HttpServer;
use pingora::server::Server;
use pingora::server::configuration::ServerConf;
use pingora::services::listening::Service;

use crate::app::App;
use crate::metrics;
use crate::policy_state::PolicyState;
use crate::proxy::Gateway;
use crate::store::Store;

/// How often session activity is written behind.
const TOUCH_FLUSH: Duration = Duration::from_secs(15);

/// What `check-config` and `serve` say about `public_urls` left unset: links
/// then use a base derived from `hosts`, which may not be how people reach it.
pub fn public_url_warnings(cfg: &config::GatewayConfig) -> Vec<String> {
    cfg.public_urls_missing()
        .into_iter()
        .map(|key| {
            let derived = cfg.public_url(key.ends_with("line_auth"));
            format!(
                "{key} is not set: links in mails will use {derived}; set it to the URL people reach the gateway by"
            )
        })
        .collect()
}

pub struct Extras {
    /// Also serve the demo origin on this address.
    pub demo_origin: Option<SocketAddr>,
    /// Take the listening sockets over from a running gateway (`serve --upgrade`),
    /// which is sent SIGQUIT once this one waits on the upgrade socket.
    pub upgrade: bool,
}

/// Starts everything and never returns: the process exits at the end of a
/// shutdown (`shutdown.rs`).
pub fn run(cfg: config::GatewayConfig, extras: Extras) -> anyhow::Result<()> {
    // A runtime of our own for the store's pool and the reloaders; it lives as
    // long as the process, so connections made on it stay usable from Pingora's.
    let control = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("gateway-control")
        .enable_all()
        .build()?;
    let store = control
        .block_on(async {
            let store = Store::connect_with(&cfg.database, cfg.database_allow_plain_text).await?;
            store.migrate().await?;
            anyhow::Ok(store)
        })
        .with_context(|| format!("cannot open the database {}", cfg.database_redacted()))?;
    metrics::set_database_up(true);
    control.spawn(crate::db_health::watch(store.clone()));

    let policy = Arc::new(PolicyState::with_limits(cfg.tenant_networks.limits()));
    if let Some(ops) = crate::policy_state::initial_ops_policy(&cfg)? {
        policy.set_file(ops);
    }
    // Read before the tenants: the follower reads on from there.
    let start_at = control.block_on(store.last_change())?;
    let tenants = control.block_on(store.load_tenants())?;
    policy.set_db(tenants);
    metrics::init();
    metrics::init_operability();
    // The start's read of the policy file (or its absence) counts as a success.
    metrics::policy_reloaded();
    crate::access_log::start(&cfg.log.access)?;

    // With TLS in front every cookie of ours is `__Host-` prefixed, and read only so.
    crate::session::use_host_prefix(cfg.session.secure_cookies);
    let app = Arc::new(App::new(cfg.clone(), store.clone(), policy.clone())?);
    {
        let app = Arc::downgrade(&app);
        metrics::before_scrape(move || {
            if let Some(app) = app.upgrade() {
                metrics::SESSION_CACHE_ENTRIES.set(app.sessions.entry_count_now().try_into().unwrap_or(i64::MAX));
            }
        });
    }
    control.spawn(crate::changes::follow(app.clone(), start_at));
    control.spawn(upkeep(app.clone()));
    let _watcher = match &cfg.policy_file {
        Some(path) if path.exists() || cfg.policy_file_explicit => Some(watch_policy(path.clone(), policy.clone())?),
        _ => None,
    };
    metrics::READY.store(true, Ordering::Relaxed);
    for w in public_url_warnings(&cfg) {
        tracing::warn!("{w}");
    }
    if *crate::store::CLOCK_OFFSET != 0 {
        tracing::warn!(
            offset_seconds = *crate::store::CLOCK_OFFSET,
            "GATEWAY_CLOCK_OFFSET is set: the clock is shifted (for tests only)"
        );
    }

    let threads =
        if cfg.threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { cfg.threads };
    let upgrade_socket = crate::shutdown::upgrade_socket(&cfg)?;
    let mut conf = server_conf(threads);
    // Pingora's grace period is the drain: the listeners are closed by then
    // (SIGTERM's own grace, with /readyz at 503, ran before, in `Signals`).
    conf.grace_period_seconds = Some(cfg.shutdown.drain.as_secs());
    conf.upgrade_sock = upgrade_socket.to_string_lossy().into_owned();
    let opt = pingora::server::configuration::Opt { upgrade: extras.upgrade, ..Default::default() };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    if extras.upgrade {
        tracing::info!(
            socket = %upgrade_socket.display(),
            "waiting for the listening sockets: send SIGQUIT to the running gateway now (within 5 seconds)"
        );
    }
    server.bootstrap();

    // The proxy behind the connection limits (header deadline, idle keep-alive,
    // per-address cap), on the one listener for proxy and auth UI.
    let gateway = Gateway::new(app)?;
    let mut http = pingora::proxy::http_proxy(&server.configuration, gateway);
    // HTTP/2 (over TLS) runs Pingora's own loop, not the HTTP/1 one of
    // `Guarded`: an idle HTTP/2 connection is closed after the same time as an
    // idle HTTP/1 one.
    let mut options = pingora::apps::HttpServerOptions::default();
    options.h2_idle_timeout = Some(cfg.connections.idle_timeout);
    http.server_options = Some(options);
    // With TLS, the same app serves both listeners; it tells them apart by port.
    let certs = crate::tls::CertStore::load(&cfg)?;
    if certs.is_some() {
        metrics::tls_reloaded();
    }
    let terminator = certs.clone().map(crate::tls::Terminator::new).transpose()?;
    let limits = crate::proxy::limits::Limits::new(&cfg);
    control.spawn(crate::shutdown::exit_when_drained(server.watch_execution_phase(), limits.clone()));
    let guarded = crate::proxy::limits::Guarded {
        inner: Arc::new(http),
        limits,
        tls: terminator,
        bare: Arc::new(crate::proxy::bare::BareAnswers::new(&cfg)),
    };
    let mut proxy = Service::new("gateway".to_owned(), guarded);
    proxy.add_tcp(&cfg.listen.to_string());
    let _cert_watcher = match &certs {
        Some(store) => {
            proxy.add_tcp(&store.tls().listen.to_string());
            Some(crate::tls::reload::watch(store.clone())?)
        }
        None => None,
    };
    control.spawn(crate::hangup::on_sighup(Arc::new(cfg.clone()), policy.clone(), certs.clone()));
    server.add_service(proxy);

    if let Some(addr) = cfg.metrics.listen {
        let mut svc = Service::new("metrics".to_owned(), HttpServer::new_app(metrics::MetricsApp));
        svc.threads = Some(1);
        svc.add_tcp(&addr.to_string());
        server.add_service(svc);
    }
    if let Some(addr) = extras.demo_origin {
        let mut svc =
            Service::new("demo origin".to_owned(), HttpServer::new_app(crate::demo_origin::DemoOrigin::default()));
        svc.threads = Some(1);
        svc.add_tcp(&addr.to_string());
        server.add_service(svc);
    }
    tracing::info!(listen = %cfg.listen, tls = ?cfg.tls.as_ref().map(|t| t.listen), origin = %cfg.origin, database = %cfg.database_redacted(), "gateway starting");
    // Keep the control runtime alive for the life of the process.
    let _control = control;
    server.run(pingora::server::RunArgs {
        shutdown_signal: Box::new(crate::shutdown::Signals { grace: cfg.shutdown.grace }),
    });
    tracing::info!("stopped");
    crate::access_log::flush_before_exit();
    std::process::exit(0)
}

/// Pingora's settings for the proxy: `threads` workers, five-second grace periods.
/// The benches' bare Pingora proxy uses the same, so that it is a fair floor.
pub fn server_conf(threads: usize) -> ServerConf {
    ServerConf {
        threads,
        grace_period_seconds: Some(5),
        graceful_shutdown_timeout_seconds: Some(5),
        ..ServerConf::default()
    }
}

/// Writes session activity behind, and purges what expired.
async fn upkeep(app: Arc<App>) {
    let mut last_purge = std::time::Instant::now();
    let mut touch_failures = crate::outage::Outage::new("writing session activity");
    loop {
        tokio::time::sleep(TOUCH_FLUSH).await;
        let touched = app.sessions.take_touched();
        if !touched.is_empty() {
            match app.store.touch_sessions(&touched).await {
                Ok(_) => {
                    touch_failures.ok();
                }
                Err(e) => {
                    touch_failures.failed(&e);
                }
            }
        }
        if last_purge.elapsed() > Duration::from_secs(600) {
            last_purge = std::time::Instant::now();
            if let Err(e) = app.store.purge_expired_sessions().await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
            // Sign-ins abandoned at a provider, which no callback will sweep.
            if let Err(e) = app.store.sweep_flows().await {
                tracing::warn!(error = %e, "sweeping abandoned sign-in flows failed");
            }
            if let Err(e) = app.store.prune_changes().await {
                tracing::warn!(error = %e, "pruning the change log failed");
            }
        }
    }
}

fn watch_policy(path: std::path::PathBuf, policy: Arc<PolicyState>) -> anyhow::Result<config::PolicyWatcher> {
    config::PolicyWatcher::spawn_with(path, policy.limits(), move |result| match result {
        Ok(ops) => {
            policy.set_file(ops);
            metrics::POLICY_RELOADS.with_label_values(&["ok"]).inc();
            metrics::policy_reloaded();
            tracing::info!("policy file reloaded");
        }
        Err(e) => {
            metrics::POLICY_RELOADS.with_label_values(&["error"]).inc();
            tracing::error!("policy file rejected, the previous policy stays in force: {e}");
        }
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}
