//! Reading the ops policy file (`policy.yaml`) into an [`OpsPolicy`].

use std::fmt;
use std::path::Path;

use ipnet::IpNet;
use policy::{
    LineId, NetworkLimits, Origin, PathAction, PathMatch, PathOptions, PathRule, PathRules, Role, Route, normalize_path,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::error::ConfigError;
use crate::gateway_load::{base_dir_of, read_text};
use crate::net::parse_net;
use crate::scalar::parse_str;
use crate::{context, yaml};

/// The ops policy: path rules (first match wins) and tenants declared as code.
#[derive(Debug, Clone, Default)]
pub struct OpsPolicy {
    /// The path rules, in file order.
    pub rules: PathRules,
    /// The declared tenants, in file order.
    pub tenants: Vec<DeclaredTenant>,
}

/// A tenant as the policy file declares it; read-only in the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredTenant {
    /// The tenant's name, as in the database.
    pub name: String,
    /// Its access route.
    pub route: Route,
    /// Its 2FA switch.
    pub two_factor: bool,
    /// Its registered lines.
    pub lines: Vec<LineId>,
    /// Its registered source networks.
    pub networks: Vec<IpNet>,
}

/// Reads and validates an ops policy file, declared networks against the default limits.
pub fn load_policy(path: &Path) -> Result<OpsPolicy, ConfigError> {
    load_policy_with(path, &NetworkLimits::default())
}

/// Reads and validates an ops policy file; declared networks must keep within `limits`.
pub fn load_policy_with(path: &Path, limits: &NetworkLimits) -> Result<OpsPolicy, ConfigError> {
    let text = read_text(path)?;
    parse_policy_with(&text, path, limits)
}

/// Validates ops policy `text` (default network limits); `path` is named in errors and rule origins.
pub fn parse_policy(text: &str, path: &Path) -> Result<OpsPolicy, ConfigError> {
    parse_policy_with(text, path, &NetworkLimits::default())
}

/// Validates ops policy `text`; declared networks must keep within `limits`.
pub fn parse_policy_with(text: &str, path: &Path, limits: &NetworkLimits) -> Result<OpsPolicy, ConfigError> {
    let file: PolicyFile = context::scoped(&base_dir_of(path), true, || {
        context::set_network_limits(*limits);
        yaml::from_str(text, path)
    })?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let rules = file
        .paths
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, r)| PathRule { matcher: r.matcher, action: r.action, origin: format!("{name}: paths[{i}]") })
        .collect();
    let tenants = file
        .tenants
        .map(|t| t.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, t)| DeclaredTenant {
            name,
            route: t.route.0,
            two_factor: t.two_factor,
            lines: t.lines.into_iter().map(|l| l.0).collect(),
            networks: t.networks.into_iter().map(|n| n.0).collect(),
        })
        .collect();
    let options = file.origin_paths.map(|o| o.options()).unwrap_or_default();
    Ok(OpsPolicy { rules: PathRules::with_options(rules, options), tenants })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    origin_paths: Option<OriginPaths>,
    #[serde(default)]
    paths: Option<Vec<RuleEntry>>,
    #[serde(default)]
    tenants: Option<TenantList>,
}

/// One path rule, checked as a whole so that the error points at the rule.
struct RuleEntry {
    matcher: PathMatch,
    action: PathAction,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Bypass,
    Deny,
}

const RULE_FIELDS: &[&str] = &["path", "prefix", "action", "require_role"];

// A hand-written visitor rather than a derived struct plus a check afterwards:
// only an error raised while the rule's mapping is being visited carries the
// rule's own position.
impl<'de> Deserialize<'de> for RuleEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RuleVisitor)
    }
}

struct RuleVisitor;

impl<'de> Visitor<'de> for RuleVisitor {
    type Value = RuleEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rule: path or prefix, and action or require_role")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RuleEntry, A::Error> {
        let (mut path, mut prefix, mut action, mut role) = (None, None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            let slot_taken = match key.as_str() {
                "path" => path.replace(map.next_value::<Pattern>()?.0).is_some(),
                "prefix" => prefix.replace(map.next_value::<Pattern>()?.0).is_some(),
                "action" => action.replace(map.next_value::<Action>()?).is_some(),
                "require_role" => role.replace(map.next_value::<RoleName>()?.0).is_some(),
                other => return Err(de::Error::unknown_field(other, RULE_FIELDS)),
            };
            if slot_taken {
                return Err(de::Error::custom(format!("{key} is given twice in this rule")));
            }
        }
        let matcher = match (path, prefix) {
            (Some(p), None) => PathMatch::Exact(p),
            (None, Some(p)) => PathMatch::Prefix(p),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom("a rule has either path (exact) or prefix, not both"));
            }
            (None, None) => {
                return Err(de::Error::custom("a rule needs path: /exact/path or prefix: /some/prefix"));
            }
        };
        let action = match (action, role) {
            (Some(Action::Bypass), None) => PathAction::Bypass,
            (Some(Action::Deny), None) => PathAction::Deny,
            (None, Some(role)) => PathAction::RequireRole(role),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom("a rule has either action or require_role, not both"));
            }
            (None, None) => {
                return Err(de::Error::custom("a rule needs action: bypass|deny or require_role: user|admin|owner"));
            }
        };
        Ok(RuleEntry { matcher, action })
    }
}

/// A path pattern, which must be written exactly as request paths are
/// normalised, or it could never match.
struct Pattern(String);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a path pattern", |s| {
            if !s.starts_with('/') {
                return Err(format!("the pattern {s:?} must start with '/'"));
            }
            match normalize_path(s) {
                Ok(n) if n == s => Ok(Pattern(n)),
                Ok(n) => Err(format!("the pattern {s:?} is not normalised and could never match; write {n:?}")),
                Err(e) => Err(format!("the pattern {s:?} is not a valid path: {e}")),
            }
        })
    }
}

struct RoleName(Role);

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a role", |s| Role::parse(s).map(RoleName).map_err(|e| e.to_string()))
    }
}

#[derive(Default)]
struct RouteName(Route);

impl<'de> Deserialize<'de> for RouteName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "an access route", |s| Route::parse(s).map(RouteName).map_err(|e| e.to_string()))
    }
}

/// The `tenants:` mapping, kept in file order.
struct TenantList(Vec<(String, RawTenant)>);

impl<'de> Deserialize<'de> for TenantList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TenantListVisitor)
    }
}

struct TenantListVisitor;

impl<'de> Visitor<'de> for TenantListVisitor {
    type Value = TenantList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping from tenant names to tenant settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TenantList, A::Error> {
        let mut out = Vec::new();
        // Reading the name records it as the current tenant, so that lines
        // read next are attributed to it.
        while let Some(TenantName(name)) = map.next_key()? {
            let tenant: RawTenant = map.next_value()?;
            out.push((name, tenant));
        }
        Ok(TenantList(out))
    }
}

const TENANT_NAME_RULE: &str = "1 to 64 characters, each a lower-case letter a-z, a digit, '.', '_' or '-'";

/// Checks a tenant name against the rule the database enforces.
pub fn check_tenant_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(format!("invalid tenant name {name:?}: a tenant name is {TENANT_NAME_RULE}")) }
}

struct TenantName(String);

impl<'de> Deserialize<'de> for TenantName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a tenant name", |s| {
            check_tenant_name(s)?;
            context::declare_tenant(s)?;
            Ok(TenantName(s.to_owned()))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    #[serde(default)]
    route: RouteName,
    #[serde(default = "yes")]
    two_factor: bool,
    #[serde(default)]
    lines: Vec<LineEntry>,
    #[serde(default)]
    networks: Vec<TenantNet>,
}

/// A declared source network, held to the same limits as one added in the UI
/// or with the CLI (SPEC section 11).
struct TenantNet(IpNet);

impl<'de> Deserialize<'de> for TenantNet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a CIDR or an IP address", |s| {
            let net = parse_net(s)?;
            context::network_limits().check(net).map(TenantNet).map_err(|e| e.to_string())
        })
    }
}

/// What the origin does with paths (`origin_paths:`), for matching path rules.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginPaths {
    #[serde(default)]
    folds_case: OriginAnswer,
    #[serde(default)]
    ignores_trailing_dots_and_spaces: OriginAnswer,
}

impl OriginPaths {
    fn options(&self) -> PathOptions {
        PathOptions {
            folds_case: self.folds_case.0,
            ignores_trailing_dots_and_spaces: self.ignores_trailing_dots_and_spaces.0,
        }
    }
}

#[derive(Default)]
struct OriginAnswer(Origin);

impl<'de> Deserialize<'de> for OriginAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OriginAnswerVisitor)
    }
}

struct OriginAnswerVisitor;

impl<'de> Visitor<'de> for OriginAnswerVisitor {
    type Value = OriginAnswer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("yes, no or unknown")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<OriginAnswer, E> {
        Ok(OriginAnswer(if v { Origin::Yes } else { Origin::No }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OriginAnswer, E> {
        match v {
            "yes" | "true" => Ok(OriginAnswer(Origin::Yes)),
            "no" | "false" => Ok(OriginAnswer(Origin::No)),
            "unknown" => Ok(OriginAnswer(Origin::Unknown)),
            other => Err(E::custom(format!("{other:?}: expected yes, no or unknown"))),
        }
    }
}

fn yes() -> bool {
    true
}

/// A line number, checked for format and for being declared only once.
struct LineEntry(LineId);

impl<'de> Deserialize<'de> for LineEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a line number", |s| {
            let line = LineId::parse(s).map_err(|e| format!("invalid line number {s:?}: {e}"))?;
            context::declare_line(line)?;
            Ok(LineEntry(line))
        })
    }
}
