//! `gateway demo`: everything needed to see the gateway work, in one folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use gateway::seed::{SeedSpec, Seeded};
use gateway::store::Store;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database, mail and SMS folders and policy file.
    #[arg(long, default_value = "demo-data")]
    dir: PathBuf,
    /// The gateway listener.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built-in demo origin.
    #[arg(long, default_value = "127.0.0.1:9000")]
    origin: SocketAddr,
    /// The metrics listener.
    #[arg(long, default_value = "127.0.0.1:9079")]
    metrics: SocketAddr,
    /// An OpenID provider to offer as a sign-in button (`make demo` starts the
    /// tests' provider when Node is installed and passes its issuer here).
    #[arg(long)]
    oidc_issuer: Option<String>,
    /// The client id the demo is registered under at that provider.
    #[arg(long, default_value = "gateway-demo")]
    oidc_client_id: String,
    /// The client secret the demo is registered with at that provider.
    #[arg(long, default_value = "demo-secret")]
    oidc_client_secret: String,
}

/// The provider account bound to the demo's federated user.
const DEMO_SUBJECT: &str = "demo-user";
const DEMO_MEMBER: &str = "member@demo.example";

const DEMO_LINE: &str = "CAF0000000001";
const POLICY: &str = "# Demo ops policy: edit me while the demo runs; changes apply at once.\n\
paths:\n  - prefix: /public\n    action: bypass\n  - prefix: /internal\n    action: deny\n  - prefix: /admin\n    require_role: admin\n";

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    gateway::private_fs::create_dir_all(&args.dir)?;
    let dir = std::fs::canonicalize(&args.dir)?;
    let policy_path = dir.join("policy.yaml");
    if !policy_path.exists() {
        std::fs::write(&policy_path, POLICY)?;
    }
    let yaml = format!(
        "listen: \"{listen}\"\norigin: \"{origin}\"\ndatabase: \"sqlite://gateway.db\"\n\
         carrier:\n  trusted_networks: [\"127.0.0.1/32\"]\n\
         session:\n  secure_cookies: false\n\
         mail:\n  transport: file\n  dir: mail\n\
         sms:\n  transport: file\n  dir: sms\n\
         metrics:\n  listen: \"{metrics}\"\npolicy_file: policy.yaml\nui:\n  product_name: \"Demo Storage\"\n{login}",
        listen = args.listen,
        origin = args.origin,
        metrics = args.metrics,
        login = match &args.oidc_issuer {
            Some(issuer) => format!(
                "login:\n  providers:\n    - id: demo-id\n      kind: oidc\n      issuer: \"{issuer}\"\n\
                 \x20     client_id: \"{}\"\n      client_secret: \"{}\"\n\
                 \x20     label: {{ en: \"Sign in with the demo provider\", ja: \"デモ認証サービスでログイン\" }}\n",
                args.oidc_client_id, args.oidc_client_secret
            ),
            None => String::new(),
        },
    );
    let cfg_path = dir.join("gateway.yaml");
    gateway::private_fs::write(&cfg_path, yaml.as_bytes())?;
    let cfg = super::load_config(&cfg_path)?;

    let seeded = super::block_on_value(seed(&cfg, args.oidc_issuer.as_deref()))?;
    let port = args.listen.port();
    println!("Demo gateway");
    println!("  folder:        {}", dir.display());
    println!("  ordinary host: http://storage.localhost:{port}/");
    println!("  line host:     http://line.storage.localhost:{port}/ (127.0.0.1 counts as the carrier network)");
    println!("  demo origin:   http://{} (shows the headers the gateway sent)", args.origin);
    println!("  metrics:       http://{}/metrics", args.metrics);
    println!("  mail, SMS:     {}/mail, {}/sms", dir.display(), dir.display());
    println!();
    println!("Sign in as the owner of tenant \"demo\" (2-step verification is off for it):");
    println!("  email:    {}", seeded.email);
    println!("  password: {}", seeded.password);
    println!();
    if let Some(issuer) = &args.oidc_issuer {
        println!("Or click \"Sign in with the demo provider\" and sign in there as \"{DEMO_SUBJECT}\" (any password):");
        println!("  that provider account ({issuer}) is bound to {DEMO_MEMBER}, a user of tenant \"demo\"");
        println!();
    }
    println!("Or try it with curl (R is --resolve so that no hosts file is needed):");
    println!("  R=\"--resolve storage.localhost:{port}:127.0.0.1 --resolve line.storage.localhost:{port}:127.0.0.1\"");
    println!("  # allowed: a signed-in session on the ordinary host; the origin echoes X-Auth-* headers");
    println!("  curl $R -b gw_session={} http://storage.localhost:{port}/files", seeded.ordinary_session);
    println!("  # line authentication: registered line {DEMO_LINE} asserted from the carrier network");
    println!(
        "  curl $R -H 'X-Line-Id: {DEMO_LINE}' -b gw_session={} http://line.storage.localhost:{port}/files",
        seeded.line_session
    );
    println!("  # denied (403): the same session with a line that is not registered");
    println!(
        "  curl $R -H 'X-Line-Id: CAF9999999999' -b gw_session={} http://line.storage.localhost:{port}/files",
        seeded.line_session
    );
    println!("  # no session: redirected to the login page");
    println!("  curl $R -i -H 'Accept: text/html' http://storage.localhost:{port}/files");
    println!("  # why? ask the policy engine");
    println!(
        "  target/release/gateway --config {} policy explain --host line.storage.localhost --ip 127.0.0.1 --line CAF9999999999 --user {} --path /files",
        cfg_path.display(),
        seeded.email
    );
    println!();
    gateway::serve::run(cfg, gateway::serve::Extras { demo_origin: Some(args.origin), upgrade: false })?;
    Ok(ExitCode::SUCCESS)
}

/// Creates (or refreshes) the demo tenant, its owner and two sessions, and
/// with a provider, a user bound to the provider account `DEMO_SUBJECT`.
async fn seed(cfg: &config::GatewayConfig, oidc_issuer: Option<&str>) -> anyhow::Result<Seeded> {
    let store = Store::connect(&cfg.database).await?;
    store.migrate().await?;
    let spec = SeedSpec {
        tenant: "demo",
        email: "owner@demo.example",
        two_factor: false,
        line: DEMO_LINE,
        ordinary_factor: None,
        session_lifetime_secs: cfg.session.lifetime.as_secs() as i64,
    };
    let seeded = gateway::seed::seed(&store, &spec).await?;
    if let Some(issuer) = oidc_issuer {
        let tenant = store.require_tenant_id("demo").await?;
        let user = match store.user_by_email(DEMO_MEMBER).await? {
            Some(u) => u.id,
            None => {
                let new = gateway::store::NewUser {
                    tenant_id: tenant,
                    email: DEMO_MEMBER,
                    role: policy::Role::User,
                    password_hash: None,
                };
                store.create_user(new).await?
            }
        };
        let id = gateway::store::FederatedIdentity {
            provider: "demo-id".into(),
            issuer: issuer.to_owned(),
            subject: DEMO_SUBJECT.into(),
        };
        store.bind_identity(user, &id).await?;
    }
    Ok(seeded)
}

pub fn origin_only(listen: SocketAddr, log: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    use pingora::apps::http_app::HttpServer;
    use pingora::server::Server;
    use pingora::server::configuration::ServerConf;
    use pingora::services::listening::Service;
    let conf = ServerConf {
        threads: 1,
        grace_period_seconds: Some(1),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut svc = Service::new("demo origin".to_owned(), HttpServer::new_app(gateway::demo_origin::DemoOrigin { log }));
    svc.add_tcp(&listen.to_string());
    server.add_service(svc);
    server.run_forever()
}
