//! Checks of the `tls:` block that involve more than one value or the
//! certificate files themselves; each error points at the entry or key to fix.

use std::collections::HashMap;

use crate::error::ConfigError;
use crate::gateway::GatewayConfig;
use crate::locate::{locate, locate_in_item};
use crate::tls::{TlsConfig, load_certified_key};

pub(crate) fn check(config: &GatewayConfig, tls: &TlsConfig, text: &str) -> Result<(), ConfigError> {
    let at = |place, message: String| ConfigError::at(&config.path, place, message);
    const LIST: &[&str] = &["tls", "certificates"];
    if !config.session.secure_cookies {
        return Err(at(
            locate(text, &["session", "secure_cookies"]),
            "session.secure_cookies is false but tls is configured: over TLS cookies must be Secure \
             (and __Host- prefixed); remove the setting"
                .to_owned(),
        ));
    }
    // Connections are told apart by the port they arrived on.
    if tls.listen.port() == config.listen.port() {
        return Err(at(
            locate(text, &["tls", "listen"]),
            format!(
                "tls.listen uses port {}, as listen does; give the TLS listener a port of its own",
                tls.listen.port()
            ),
        ));
    }
    if tls.certificates.is_empty() {
        return Err(at(locate(text, LIST), "tls.certificates is empty: list at least one certificate".to_owned()));
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (index, entry) in tls.certificates.iter().enumerate() {
        if entry.hosts.is_empty() {
            return Err(at(
                locate_in_item(text, LIST, index, "hosts"),
                "tls.certificates: hosts is empty; name the hostnames this certificate is for".to_owned(),
            ));
        }
        for host in &entry.hosts {
            if let Some(first) = owner.insert(host.as_str(), index) {
                let whose = if first == index { "this entry".to_owned() } else { format!("entry {}", first + 1) };
                return Err(at(
                    locate_in_item(text, LIST, index, "hosts"),
                    format!("tls.certificates: {host:?} is already listed by {whose}; each name has one certificate"),
                ));
            }
        }
    }
    let served = [config.hosts.ordinary.as_str(), config.hosts.line_auth.as_str()];
    for (key, name) in [("ordinary", served[0]), ("line_auth", served[1])] {
        if tls.entry_for(name).is_none() {
            return Err(at(
                locate(text, LIST),
                format!("no certificate in tls.certificates covers hosts.{key} ({name:?}); add it to an entry's hosts"),
            ));
        }
    }
    for (index, entry) in tls.certificates.iter().enumerate() {
        if let Err(e) = load_certified_key(entry, &tls.names_to_check(index, &served)) {
            let key = if e.in_key { "key" } else { "cert" };
            return Err(at(locate_in_item(text, LIST, index, key), format!("tls.certificates: {}", e.message)));
        }
    }
    Ok(())
}
