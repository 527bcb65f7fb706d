//! Lines and networks many at a time, from a CSV file at the command line or a
//! text area on the settings page: every row validated in memory by the same
//! rules as one added alone, a report of each refused row and why, and the
//! good rows written in one transaction with one recorded change.
//!
//! When a row is refused nothing is written, unless the caller asks to skip
//! refused rows: a file with a typo is far more often a wrong file than a file
//! with one bad line to leave out.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;
use policy::LineId;

use super::{Accounts, Actor, Mailed, Result, TenantRef};

/// One value to import and where it came from (its row in the file, from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRow {
    pub row: usize,
    pub value: String,
}

/// A refused row: which, what it held, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub row: usize,
    pub value: String,
    pub why: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {:?}: {}", self.row, self.value, self.why)
    }
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkReport {
    /// New to the tenant: written, or what would be.
    pub added: usize,
    pub already: usize,
    /// Rows repeating an earlier row of the same input.
    pub duplicates: usize,
    pub refused: Vec<Refusal>,
    /// Whether anything was written (false on a dry run or a refusal).
    pub written: bool,
    /// The owners' notice of new networks, when one was due.
    pub owner_told: Option<Mailed>,
}

impl BulkReport {
    pub fn summary(&self) -> String {
        format!(
            "{} added, {} already registered, {} duplicates in the input, {} refused",
            self.added,
            self.already,
            self.duplicates,
            self.refused.len()
        )
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct BulkOptions {
    /// Validate and report, write nothing.
    pub dry_run: bool,
    /// Write the good rows even when some are refused.
    pub skip_invalid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    Done(BulkReport),
    ManagedByFile,
}

/// The widest network among `set` that contains `net` (and is not `net`):
/// one lookup per shorter prefix, so large inputs stay linear.
fn covering<V>(net: &IpNet, set: &HashMap<IpNet, V>) -> Option<IpNet> {
    (0..net.prefix_len())
        .filter_map(|len| IpNet::new(net.addr(), len).ok().map(|n| n.trunc()))
        .find(|n| set.contains_key(n))
}

/// First-column names taken as a header row (the export writes `line` or `network`).
const HEADERS: &[&str] = &["line", "lines", "line number", "line_number", "network", "networks", "cidr"];

/// The rows of a CSV text: the first column of each line (quoted or not),
/// further columns ignored; blank lines and `#` comments skipped, and a first
/// row naming the column taken as a header.
pub fn read_rows(text: &str) -> Vec<BulkRow> {
    let mut rows = Vec::new();
    let mut first = true;
    // Spreadsheets save CSV with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let value = first_field(trimmed);
        if std::mem::take(&mut first) && HEADERS.contains(&value.trim().to_ascii_lowercase().as_str()) {
            continue;
        }
        rows.push(BulkRow { row: i + 1, value });
    }
    rows
}

/// The first field of a CSV line: up to the first comma, or a quoted field
/// with `""` standing for a quote.
fn first_field(line: &str) -> String {
    let Some(rest) = line.strip_prefix('"') else {
        return line.split(',').next().unwrap_or("").trim().to_owned();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                break;
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// The CSV an import reads back: a header row, then one value a row.
pub fn write_rows<T: std::fmt::Display>(header: &str, items: &[T]) -> String {
    let mut out = String::with_capacity(16 * (items.len() + 1));
    out.push_str(header);
    out.push('\n');
    for item in items {
        out.push_str(&item.to_string());
        out.push('\n');
    }
    out
}

impl Accounts<'_> {
    /// Imports lines: each must parse as a line number and be registered to no
    /// other tenant. `progress` hears the rows written so far.
    pub async fn import_lines(
        &self,
        by: &Actor<'_>,
        tenant: &TenantRef<'_>,
        rows: &[BulkRow],
        opts: BulkOptions,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<Imported> {
        if tenant.managed_by_file {
            return Ok(Imported::ManagedByFile);
        }
        let mut report = BulkReport::default();
        let mut parsed = Vec::with_capacity(rows.len());
        let mut seen = HashSet::with_capacity(rows.len());
        for r in rows {
            match LineId::parse(&r.value) {
                Ok(line) if !seen.insert(line) => report.duplicates += 1,
                Ok(line) => parsed.push((r, line)),
                Err(e) => report.refused.push(Refusal { row: r.row, value: r.value.clone(), why: e.to_string() }),
            }
        }
        let lines: Vec<LineId> = parsed.iter().map(|(_, l)| *l).collect();
        let owners = self.store.line_owners(&lines).await?;
        let mut new = Vec::with_capacity(lines.len());
        for (r, line) in parsed {
            match owners.get(&line) {
                None => new.push(line),
                Some(&owner) if owner == tenant.id => report.already += 1,
                Some(_) => report.refused.push(Refusal {
                    row: r.row,
                    value: r.value.clone(),
                    why: "registered to another tenant".into(),
                }),
            }
        }
        report.refused.sort_by_key(|r| r.row);
        report.added = new.len();
        if opts.dry_run || (!report.refused.is_empty() && !opts.skip_invalid) || new.is_empty() {
            return Ok(Imported::Done(report));
        }
        self.store.import_lines(tenant.id, &new, progress).await?;
        report.written = true;
        let subject = format!("{}: {}", report.summary(), capped_list(&new));
        self.audit(by, Some(tenant.id), Some(&subject), "lines_imported").await;
        Ok(Imported::Done(report))
    }

    /// Imports source networks: each within `tenant_networks`' limits (never
    /// loopback and the like) and not inside a network already registered.
    /// The owners are told of the new ones, as when one is added alone.
    pub async fn import_networks(
        &self,
        by: &Actor<'_>,
        tenant: &TenantRef<'_>,
        rows: &[BulkRow],
        opts: BulkOptions,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<Imported> {
        if tenant.managed_by_file {
            return Ok(Imported::ManagedByFile);
        }
        let limits = self.cfg.tenant_networks.limits();
        let registered: Vec<IpNet> = self
            .store
            .tenant_networks(tenant.id)
            .await?
            .iter()
            .filter_map(|n| config::parse_net(n).ok().map(|n| n.trunc()))
            .collect();
        let exact: HashMap<IpNet, ()> = registered.iter().map(|n| (*n, ())).collect();
        let mut report = BulkReport::default();
        // Parsed and within the limits first; then widest first, so that a
        // network inside another of the same input is the one refused.
        let mut checked: Vec<(&BulkRow, IpNet)> = Vec::with_capacity(rows.len());
        for r in rows {
            let refuse = |why: String| Refusal { row: r.row, value: r.value.clone(), why };
            match config::parse_net(&r.value).map(|n| limits.check(n)) {
                Ok(Ok(net)) => checked.push((r, net)),
                Ok(Err(e)) => report.refused.push(refuse(e.to_string())),
                Err(e) => report.refused.push(refuse(e)),
            }
        }
        checked.sort_by_key(|(r, net)| (net.prefix_len(), r.row));
        let mut new = Vec::new();
        // Each accepted network, by the row that brought it.
        let mut accepted: HashMap<IpNet, usize> = HashMap::new();
        for (r, net) in checked {
            let refuse = |why: String| Refusal { row: r.row, value: r.value.clone(), why };
            if accepted.contains_key(&net) {
                report.duplicates += 1;
            } else if exact.contains_key(&net) {
                accepted.insert(net, r.row);
                report.already += 1;
            } else if let Some(within) = covering(&net, &exact) {
                report.refused.push(refuse(format!("already covered by the registered network {within}")));
            } else if let Some((within, row)) = covering(&net, &accepted).map(|w| (w, accepted[&w])) {
                report.refused.push(refuse(format!("covered by {within} in row {row}")));
            } else {
                accepted.insert(net, r.row);
                new.push(net);
            }
        }
        report.refused.sort_by_key(|r| r.row);
        report.added = new.len();
        if !report.refused.is_empty() {
            tracing::warn!(
                tenant = tenant.name,
                refused = report.refused.len(),
                "source networks refused in an import"
            );
            // As for a single network: an attempt at a forbidden network
            // (0.0.0.0/1, a neighbour's range) leaves a trace for the owner.
            if !opts.dry_run {
                let tried: Vec<&str> = report.refused.iter().map(|r| r.value.as_str()).collect();
                self.audit(by, Some(tenant.id), Some(&capped_list(&tried)), "network_refused").await;
            }
        }
        if opts.dry_run || (!report.refused.is_empty() && !opts.skip_invalid) || new.is_empty() {
            return Ok(Imported::Done(report));
        }
        self.store.import_networks(tenant.id, &new, progress).await?;
        report.written = true;
        let subject = format!("{}: {}", report.summary(), capped_list(&new));
        self.audit(by, Some(tenant.id), Some(&subject), "networks_imported").await;
        report.owner_told = Some(self.tell_owners(by, tenant, &new).await);
        Ok(Imported::Done(report))
    }

    /// Every registered line or network of the tenant as import reads it back.
    pub async fn export_lines(&self, tenant_id: i64) -> Result<String> {
        Ok(write_rows("line", &self.store.tenant_lines(tenant_id).await?))
    }

    pub async fn export_networks(&self, tenant_id: i64) -> Result<String> {
        Ok(write_rows("network", &self.store.tenant_networks(tenant_id).await?))
    }
}

/// The values an audit entry names: all of a short list, the first
/// `AUDITED_VALUES` of a long one (an import of 100 000 lines is one entry).
fn capped_list<T: std::fmt::Display>(items: &[T]) -> String {
    const AUDITED_VALUES: usize = 50;
    let shown = super::lines::list(&items[..items.len().min(AUDITED_VALUES)]);
    match items.len().checked_sub(AUDITED_VALUES) {
        Some(more) if more > 0 => format!("{shown} and {more} more"),
        _ => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_entry_names_the_first_values_and_counts_the_rest() {
        assert_eq!(capped_list(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..60).map(|i| i.to_string()).collect();
        let got = capped_list(&many);
        assert!(got.starts_with("0, 1, 2") && got.ends_with("49 and 10 more"), "{got}");
    }

    #[test]
    fn csv_rows_take_the_first_column_and_skip_headers_comments_and_blanks() {
        let text = "line,label\n# a comment\n\nCAF0000000001,head office\n\"CAF0000000002\",\"x, y\"\n \"a\"\"b\" \nCOP00000001";
        let rows = read_rows(text);
        let got: Vec<(usize, &str)> = rows.iter().map(|r| (r.row, r.value.as_str())).collect();
        assert_eq!(got, vec![(4, "CAF0000000001"), (5, "CAF0000000002"), (6, "a\"b"), (7, "COP00000001")]);
        // A spreadsheet's byte-order mark and line ends.
        let rows = read_rows("\u{feff}Line,Label\r\nCAF0000000001,x\r\n");
        assert_eq!(rows, vec![BulkRow { row: 2, value: "CAF0000000001".into() }]);
        // Without a header the first row is data; only the first row can be one.
        let rows = read_rows("CAF0000000001\nline\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], BulkRow { row: 2, value: "line".into() });
    }

    #[test]
    fn an_export_reads_back() {
        let text = write_rows("network", &["192.0.2.0/24", "2001:db8::/48"]);
        let rows: Vec<String> = read_rows(&text).into_iter().map(|r| r.value).collect();
        assert_eq!(rows, vec!["192.0.2.0/24", "2001:db8::/48"]);
    }

    /// Inside a registered network or another row's: refused, the narrower
    /// one whatever the order, in linear time.
    #[tokio::test]
    async fn a_network_inside_another_is_refused_within_the_input_too() {
        let w = crate::auth::testing::world().await;
        w.app.store.add_networks(w.tenant, &["198.51.100.0/24".parse().unwrap()]).await.unwrap();
        let tenant = TenantRef { id: w.tenant, name: "acme", managed_by_file: false };
        let text = "192.0.2.0/25\n192.0.2.0/24\n192.0.2.128/26\n198.51.100.7\n2001:db8::/48\n198.51.100.0/24\n";
        let rows = read_rows(text);
        let opts = BulkOptions { dry_run: true, ..BulkOptions::default() };
        let by = Actor::cli(crate::ui::lang::Lang::En);
        let got = w.accounts().import_networks(&by, &tenant, &rows, opts, &mut |_| {}).await.unwrap();
        let Imported::Done(rep) = got else { panic!("{got:?}") };
        let refused: Vec<String> = rep.refused.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            refused,
            vec![
                "row 1: \"192.0.2.0/25\": covered by 192.0.2.0/24 in row 2",
                "row 3: \"192.0.2.128/26\": covered by 192.0.2.0/24 in row 2",
                "row 4: \"198.51.100.7\": already covered by the registered network 198.51.100.0/24",
            ]
        );
        assert_eq!((rep.added, rep.already, rep.written), (2, 1, false));
    }
}
