//! Reading a single-part mail back as its reader would see it: what tests
//! need to find a link in an `.eml` file or a relay's mailbox.
//!
//! Deliberately small: one part, UTF-8 (other charsets are read lossily),
//! 7bit/8bit, quoted-printable or base64 bodies, RFC 2047 encoded subjects.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// The decoded Subject and plain-text body of a raw RFC 5322 message. Line
/// endings come back as `\n`; transfer encoding and soft line breaks are undone.
pub fn decode_message(raw: &str) -> (String, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = match raw.find("\n\n") {
        Some(i) => (&raw[..i], &raw[i + 2..]),
        None => (raw.as_str(), ""),
    };
    let headers = unfold(head);
    let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let subject = decode_words(header("subject").unwrap_or("").trim());
    let encoding = header("content-transfer-encoding").unwrap_or("").trim().to_ascii_lowercase();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => base64_body(body).unwrap_or_else(|| body.to_owned()),
        _ => body.to_owned(),
    };
    (subject, body.replace("\r\n", "\n"))
}

/// Header lines with continuation lines joined (RFC 5322 unfolding keeps the
/// folding whitespace).
fn unfold(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim_start().to_owned()));
        }
    }
    headers
}

/// RFC 2047: `=?charset?B|Q?text?=` words; whitespace between two such words
/// is dropped, and their bytes are joined before UTF-8 decoding because an
/// encoder may split a character across words.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut after_word = false;
    let mut rest = value;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else { break };
        let Some((bytes, len)) = encoded_word(&rest[start..]) else {
            // Not a word: keep the text up to and including "=?" literally.
            flush(&mut pending, &mut out);
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            after_word = false;
            continue;
        };
        let gap = &rest[..start];
        if !(after_word && gap.trim().is_empty()) {
            flush(&mut pending, &mut out);
            out.push_str(gap);
        }
        pending.extend_from_slice(&bytes);
        after_word = true;
        rest = &rest[start + len..];
    }
    flush(&mut pending, &mut out);
    out.push_str(rest);
    out
}

fn flush(pending: &mut Vec<u8>, out: &mut String) {
    if !pending.is_empty() {
        out.push_str(&String::from_utf8_lossy(pending));
        pending.clear();
    }
}

/// One encoded word at the start of `s`: its bytes and its length in `s`.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains([' ', '\t']) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => lenient_base64().decode(text).ok()?,
        "Q" | "q" => {
            let mut out = Vec::with_capacity(text.len());
            unescape_qp(text.replace('_', " ").as_bytes(), &mut out);
            out
        }
        _ => return None,
    };
    Some((bytes, s.len() - inner.len() + end + 2))
}

/// Quoted-printable body: a line ending in `=` continues on the next one.
fn quoted_printable(body: &str) -> String {
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        // Transport may add trailing whitespace; RFC 2045 says to drop it.
        let line = line.trim_end_matches([' ', '\t', '\r']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        unescape_qp(line.as_bytes(), &mut out);
        if !soft && lines.peek().is_some() {
            out.push(b'\n');
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `=XX` escapes; a malformed one is kept as written.
fn unescape_qp(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'='
            && let Some(b) = s.get(i + 1..i + 3).and_then(hex_byte)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

fn base64_body(body: &str) -> Option<String> {
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = lenient_base64().decode(compact).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

// Encoders differ on padding; a test reader should not care.
fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}
