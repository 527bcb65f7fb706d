//! Finds where a key is written, for problems that only show once the whole file
//! has been read (two equal hostnames, a missing `smtp:` block). Values are
//! validated while deserializing and get exact positions from the YAML parser;
//! this is the fallback, and it only understands block-style mappings.

/// The 1-based line and column of the deepest key of `path` that can be found,
/// so that a key written in flow style still points at its parent. `None` when
/// not even the first key is there.
pub(crate) fn locate(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    locate_nth(text, path, 0)
}

/// As [`locate`], but for the `nth` (0-based) occurrence of the last key among
/// the children of its parent; used to point at the second of two duplicates.
pub(crate) fn locate_nth(text: &str, path: &[&str], nth: usize) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    // The block to search: lines [start, end) at indentation `indent`.
    let mut start = 0;
    let mut end = lines.len();
    let mut indent = Some(0);
    for (depth, key) in path.iter().enumerate() {
        let want = if depth + 1 == path.len() { nth } else { 0 };
        let Some(child_indent) = indent else { break };
        let hits: Vec<usize> = (start..end)
            .filter(|&i| indent_of(lines[i]) == Some(child_indent) && key_of(lines[i]) == Some(key))
            .collect();
        let Some(&at) = hits.get(want) else { break };
        found = Some((at + 1, child_indent + 1));
        start = at + 1;
        end = (start..end).find(|&i| indent_of(lines[i]).is_some_and(|n| n <= child_indent)).unwrap_or(end);
        indent = (start..end).find_map(|i| indent_of(lines[i]));
    }
    found
}

/// The `index`th (0-based) entry of the block sequence under the key `path`
/// (where its `-` is), for problems with one entry of a list such as
/// `login.providers`; the key itself when the list is not written in block style.
pub(crate) fn locate_item(text: &str, path: &[&str], index: usize) -> Option<(usize, usize)> {
    let (key_line, key_col) = locate(text, path)?;
    let lines: Vec<&str> = text.lines().collect();
    if path.last().is_none_or(|k| key_of(lines[key_line - 1]) != Some(k)) {
        return Some((key_line, key_col));
    }
    let key_indent = key_col - 1;
    let is_dash = |line: &str| {
        let body = line.trim_start_matches(' ');
        body == "-" || body.starts_with("- ")
    };
    let mut content = (key_line..lines.len()).filter(|&i| indent_of(lines[i]).is_some());
    let Some(first) = content.next() else { return Some((key_line, key_col)) };
    let dash_indent = match indent_of(lines[first]) {
        Some(n) if n >= key_indent && is_dash(lines[first]) => n,
        _ => return Some((key_line, key_col)),
    };
    let items = std::iter::once(first)
        .chain(content)
        .take_while(|&i| {
            indent_of(lines[i]).is_some_and(|n| n > dash_indent || (n == dash_indent && is_dash(lines[i])))
        })
        .filter(|&i| indent_of(lines[i]) == Some(dash_indent));
    Some(items.map(|i| (i + 1, dash_indent + 1)).nth(index).unwrap_or((key_line, key_col)))
}

/// The key `key` inside the `index`th entry of the block sequence under
/// `path` (`- cert: …` or a later line of the entry); the entry itself when
/// the key is not written there.
pub(crate) fn locate_in_item(text: &str, path: &[&str], index: usize, key: &str) -> Option<(usize, usize)> {
    let (item_line, item_col) = locate_item(text, path, index)?;
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(item_line - 1)?;
    let dash_indent = item_col - 1;
    if let Some(after) = first.get(dash_indent..).and_then(|l| l.strip_prefix('-')) {
        let pad = after.len() - after.trim_start_matches(' ').len();
        if key_of(after.trim_start_matches(' ')) == Some(key) {
            return Some((item_line, dash_indent + 2 + pad));
        }
    }
    for (i, line) in lines.iter().enumerate().skip(item_line) {
        match indent_of(line) {
            None => continue,
            Some(n) if n <= dash_indent => break,
            Some(n) if key_of(line) == Some(key) => return Some((i + 1, n + 1)),
            Some(_) => {}
        }
    }
    Some((item_line, item_col))
}

/// Indentation of a line that holds content; `None` for blank and comment lines.
fn indent_of(line: &str) -> Option<usize> {
    let body = line.trim_start_matches(' ');
    if body.is_empty() || body.starts_with('#') { None } else { Some(line.len() - body.len()) }
}

/// The mapping key a line starts with, unquoted.
fn key_of(line: &str) -> Option<&str> {
    let body = line.trim_start_matches(' ');
    let (key, _) = body.split_once(':')?;
    let key = key.trim_end();
    let unquoted = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')));
    Some(unquoted.unwrap_or(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
hosts:
  ordinary: a
  # line_auth: not this one
  line_auth: b
mail:
  transport: smtp
tenants:
  acme:
    lines: [X]
  \"beta\":
    lines: [Y]
  acme:
    lines: [Z]
";

    #[test]
    fn finds_nested_keys() {
        assert_eq!(locate(TEXT, &["hosts"]), Some((2, 1)));
        assert_eq!(locate(TEXT, &["hosts", "line_auth"]), Some((5, 3)));
        assert_eq!(locate(TEXT, &["mail", "transport"]), Some((7, 3)));
        assert_eq!(locate(TEXT, &["tenants", "beta", "lines"]), Some((12, 5)));
    }

    #[test]
    fn falls_back_to_the_deepest_parent() {
        assert_eq!(locate(TEXT, &["mail", "smtp"]), Some((6, 1)));
        assert_eq!(locate(TEXT, &["nothing"]), None);
    }

    #[test]
    fn finds_list_entries() {
        let text = "login:\n  providers:\n    - id: a\n      kind: oidc\n\n    - id: b\nhosts: x\n";
        assert_eq!(locate_item(text, &["login", "providers"], 0), Some((3, 5)));
        assert_eq!(locate_item(text, &["login", "providers"], 1), Some((6, 5)));
        assert_eq!(locate_item(text, &["login", "providers"], 2), Some((2, 3)));
        // A list at its key's own indentation, and one in flow style.
        let text = "providers:\n- id: a\n- id: b\nother: 1\n";
        assert_eq!(locate_item(text, &["providers"], 1), Some((3, 1)));
        assert_eq!(locate_item("providers: [{id: a}, {id: b}]\n", &["providers"], 1), Some((1, 1)));
    }

    #[test]
    fn finds_keys_inside_list_entries() {
        let text = "tls:\n  certificates:\n    - hosts: [a]\n      cert: a.pem\n      key: a.key\n    - cert: b.pem\n      key: b.key\n";
        assert_eq!(locate_in_item(text, &["tls", "certificates"], 0, "key"), Some((5, 7)));
        assert_eq!(locate_in_item(text, &["tls", "certificates"], 0, "hosts"), Some((3, 7)));
        assert_eq!(locate_in_item(text, &["tls", "certificates"], 1, "cert"), Some((6, 7)));
        assert_eq!(locate_in_item(text, &["tls", "certificates"], 1, "hosts"), Some((6, 5)));
    }

    #[test]
    fn finds_the_second_duplicate() {
        assert_eq!(locate_nth(TEXT, &["tenants", "acme"], 1), Some((13, 3)));
        assert_eq!(locate_nth(TEXT, &["tenants", "acme"], 0), Some((9, 3)));
    }
}
