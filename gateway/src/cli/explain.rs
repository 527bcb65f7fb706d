use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use gateway::policy_state::build_snapshot;
use gateway::proxy::{client, host};
use policy::{Factor, LineFact, Outcome, PathFact, Request, SessionFact, SessionView};

use super::connect_current;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// What would happen to this request, and why.
    Explain(ExplainArgs),
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The Host the request is for (a port is ignored).
    #[arg(long)]
    host: String,
    /// The client address, taken as the TCP peer (carrier networks are checked against it).
    #[arg(long)]
    ip: String,
    /// A line id sent in the carrier's line header.
    #[arg(long)]
    line: Option<String>,
    /// Explain for a signed-in session of this user (none: a request without a session).
    #[arg(long)]
    user: Option<String>,
    /// The second factor the session completed (default: none on the ordinary hostname).
    #[arg(long, value_enum)]
    second_factor: Option<FactorArg>,
    /// How the session signed in: `password`, a `login.providers` id, or `ad`
    /// (default: the user's own login method).
    #[arg(long)]
    method: Option<String>,
    /// The request path (with any query).
    #[arg(long, default_value = "/")]
    path: String,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FactorArg {
    Sms,
    Totp,
    Recovery,
    Remembered,
    Line,
}

/// Where a path rule named by a reason was declared, and what it matches.
fn rule_of(snapshot: &policy::PolicySnapshot, reason: &policy::Reason) -> Option<String> {
    let policy::Reason::PathRule { index, .. } = reason else { return None };
    let rule = snapshot.rules.rules().get(*index as usize)?;
    let matcher = match &rule.matcher {
        policy::PathMatch::Exact(p) => format!("path {p}"),
        policy::PathMatch::Prefix(p) => format!("prefix {p}"),
    };
    Some(format!("{}, {matcher}", rule.origin))
}

/// The HTTP answer the proxy gives for an outcome, for a browser page request.
pub fn status_for_page(outcome: &Outcome<'_>) -> (u16, &'static str) {
    match outcome {
        Outcome::Allow(_) => (200, "proxied to the origin with identity headers"),
        Outcome::Bypass => (200, "proxied to the origin without identity headers"),
        Outcome::Login => (302, "redirected to /auth/login (401 for non-page requests)"),
        Outcome::SecondFactor => (302, "redirected to /auth/2fa (401 for non-page requests)"),
        Outcome::Deny(_) => (403, "refused with an explanation page"),
        Outcome::UnknownHost => (421, "refused: not one of the gateway's hostnames"),
        Outcome::BadRequest => (400, "refused: the path cannot be decoded"),
    }
}

pub async fn run(cfg: config::GatewayConfig, cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    let PolicyCommand::Explain(args) = cmd;
    let Ok(ip) = args.ip.trim().parse::<IpAddr>() else {
        bail!("--ip {:?} is not an IPv4 or IPv6 address", args.ip);
    };
    let store = connect_current(&cfg).await?;
    let ops = gateway::policy_state::initial_ops_policy(&cfg)?;
    let snapshot = build_snapshot(&store.load_tenants().await?, ops.as_ref(), &cfg.tenant_networks.limits());

    let hosts = host::Hosts { ordinary: cfg.hosts.ordinary.clone(), line_auth: cfg.hosts.line_auth.clone() };
    let host = host::host_kind(None, std::iter::once(args.host.as_bytes()), &hosts);
    let carrier: policy::NetworkSet = cfg.carrier.trusted_networks.iter().copied().collect();
    let line = match &args.line {
        Some(l) => client::line_fact(Some(ip), std::iter::once(l.as_bytes()), &carrier),
        None => LineFact::Absent,
    };
    let normalised = policy::normalize_path(&args.path);
    let path = match &normalised {
        Ok(p) => PathFact::Normalised(p),
        Err(_) => PathFact::Malformed,
    };
    let user = match &args.user {
        Some(email) => match store.user_by_email(email).await? {
            Some(u) => Some(u),
            None => bail!("no user with the email {}", gateway::store::canonical_email(email)),
        },
        None => None,
    };
    let role = user.as_ref().map(|u| u.role);
    let (login_method, provider) = match (&user, args.method.as_deref()) {
        (None, Some(_)) => bail!("--method describes a signed-in session: give --user too"),
        (None, None) => (policy::LoginMethod::Password, None),
        (Some(_), Some("password")) => (policy::LoginMethod::Password, None),
        (Some(_), Some(m)) if m == gateway::accounts::DIRECTORY || cfg.login.providers.iter().any(|p| p.id == m) => {
            (policy::LoginMethod::Federated, Some(m.to_owned()))
        }
        (Some(_), Some(m)) => {
            let known: Vec<&str> = std::iter::once("password")
                .chain(cfg.login.providers.iter().map(|p| p.id.as_str()))
                .chain(std::iter::once(gateway::accounts::DIRECTORY))
                .collect();
            bail!("--method {m:?} is not a login method here; use one of: {}", known.join(", "))
        }
        (Some(u), None) => match store.federated_identity(u.id).await? {
            Some(id) => (policy::LoginMethod::Federated, Some(id.provider)),
            None => (u.login_method, None),
        },
    };
    let factor = args.second_factor.map(|f| match f {
        FactorArg::Sms => Factor::Sms,
        FactorArg::Totp => Factor::Totp,
        FactorArg::Recovery => Factor::Recovery,
        FactorArg::Remembered => Factor::Remembered,
        FactorArg::Line => Factor::Line,
    });
    let session = match (&user, role, host) {
        (Some(u), Some(role), Some(h)) => SessionFact::Valid(SessionView {
            user: &u.email,
            tenant: u.tenant_id,
            role,
            method: login_method,
            provider: provider.as_deref(),
            factor: factor.or((h == policy::HostKind::LineAuth).then_some(Factor::Line)),
            host: h,
        }),
        _ => SessionFact::Missing,
    };
    let request = Request { host, client_ip: Some(ip), line, path, session };
    let decision = policy::decide(&snapshot, &request);
    let (status, answer) = status_for_page(&decision.outcome);

    if args.json {
        let identity = match decision.outcome {
            Outcome::Allow(id) => serde_json::json!({
                "user": id.user, "tenant": id.tenant, "role": id.role.as_str(),
                "method": id.method.as_str(), "line": id.line.map(|l| l.as_str().to_owned()),
            }),
            _ => serde_json::Value::Null,
        };
        let reasons: Vec<_> = decision
            .reasons
            .as_slice()
            .iter()
            .map(|r| match rule_of(&snapshot, r) {
                Some(rule) => serde_json::json!({ "code": r.code(), "text": r.to_string(), "rule": rule }),
                None => serde_json::json!({ "code": r.code(), "text": r.to_string() }),
            })
            .collect();
        let out = serde_json::json!({
            "outcome": decision.outcome.label(),
            "status": status,
            "answer": answer,
            "host_kind": host.map(|h| h.as_str()),
            "path": normalised.as_deref().ok(),
            "reasons": reasons,
            "identity": identity,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("outcome: {} ({status}: {answer})", decision.outcome.label());
        println!("because:");
        for (i, r) in decision.reasons.as_slice().iter().enumerate() {
            match rule_of(&snapshot, r) {
                Some(rule) => println!("  {}. {r} ({rule})", i + 1),
                None => println!("  {}. {r}", i + 1),
            }
        }
        if let Outcome::Allow(id) = decision.outcome {
            println!("identity sent to the origin:");
            println!("  X-Auth-User: {}", id.user);
            println!("  X-Auth-Tenant: {}", id.tenant);
            println!("  X-Auth-Role: {}", id.role);
            println!("  X-Auth-Method: {}", id.method.as_str());
            if let Some(l) = id.line {
                println!("  X-Auth-Line: {l}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
