//! State that value deserializers need but serde has no place for: the
//! directory relative paths are resolved against, and, while a policy file is
//! read, which tenants and lines were already declared. Checking these inside
//! `Deserialize` (rather than afterwards) is what lets the YAML parser attach the
//! exact line and column of the offending value to the error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use policy::{LineId, NetworkLimits};

#[derive(Default)]
struct Context {
    base_dir: Option<PathBuf>,
    policy: Option<PolicyScope>,
    state_dir: Option<PathBuf>,
}

/// What a policy file has declared so far.
#[derive(Default)]
struct PolicyScope {
    current_tenant: Option<String>,
    tenants: Vec<String>,
    lines: HashMap<LineId, String>,
    /// What a declared network is checked against.
    network_limits: NetworkLimits,
}

thread_local! {
    static CONTEXT: RefCell<Context> = RefCell::new(Context::default());
}

/// Runs `f` with `dir` as the base for relative paths, and, if `policy` is set,
/// with a fresh record of declared tenants and lines. The previous context is
/// restored afterwards, even if `f` panics.
pub(crate) fn scoped<T>(dir: &Path, policy: bool, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Context>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(old) = self.0.take() {
                CONTEXT.with(|c| *c.borrow_mut() = old);
            }
        }
    }
    let fresh =
        Context { base_dir: Some(dir.to_path_buf()), policy: policy.then(PolicyScope::default), state_dir: None };
    let _restore = Restore(Some(CONTEXT.with(|c| c.replace(fresh))));
    f()
}

/// The directory relative paths are resolved against (`.` outside a load).
pub(crate) fn base_dir() -> PathBuf {
    CONTEXT.with(|c| c.borrow().base_dir.clone()).unwrap_or_else(|| PathBuf::from("."))
}

/// Sets the folder state paths are resolved against, for the rest of the scope.
pub(crate) fn set_state_dir(dir: &Path) {
    CONTEXT.with(|c| c.borrow_mut().state_dir = Some(dir.to_path_buf()))
}

/// The folder state paths (the SQLite file) are resolved against: `state_dir`
/// once known, else [`base_dir`].
pub(crate) fn state_dir() -> PathBuf {
    CONTEXT.with(|c| c.borrow().state_dir.clone()).unwrap_or_else(base_dir)
}

/// Resolves `p` against [`base_dir`] unless it is absolute.
pub(crate) fn resolve(p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { base_dir().join(p) }
}

/// Records a tenant name; the error text if it was already declared.
pub(crate) fn declare_tenant(name: &str) -> Result<(), String> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(scope) = c.policy.as_mut() else {
            return Ok(());
        };
        if scope.tenants.iter().any(|t| t == name) {
            return Err(format!("tenant {name:?} is declared twice; merge the two entries"));
        }
        scope.tenants.push(name.to_owned());
        scope.current_tenant = Some(name.to_owned());
        Ok(())
    })
}

/// Records a line for the tenant being read; the error text if any tenant
/// already listed it.
pub(crate) fn declare_line(line: LineId) -> Result<(), String> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(scope) = c.policy.as_mut() else { return Ok(()) };
        let Some(current) = scope.current_tenant.clone() else { return Ok(()) };
        match scope.lines.get(&line) {
            Some(owner) if *owner == current => Err(format!("line {line} is listed twice in tenant {current:?}")),
            Some(owner) => {
                Err(format!("line {line} is already listed in tenant {owner:?}; a line belongs to one tenant only"))
            }
            None => {
                scope.lines.insert(line, current);
                Ok(())
            }
        }
    })
}

/// Sets the limits declared networks are checked against in this policy scope.
pub(crate) fn set_network_limits(limits: NetworkLimits) {
    CONTEXT.with(|c| {
        if let Some(scope) = c.borrow_mut().policy.as_mut() {
            scope.network_limits = limits;
        }
    })
}

/// The limits of the policy file being read (the defaults outside one).
pub(crate) fn network_limits() -> NetworkLimits {
    CONTEXT.with(|c| c.borrow().policy.as_ref().map(|s| s.network_limits).unwrap_or_default())
}
