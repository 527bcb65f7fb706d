//! Phone numbers as users type them, and as they may be shown back.

/// Why a typed phone number was refused. The messages are for the person who
/// typed it; pages may translate by variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("enter a phone number")]
    Empty,
    #[error("a phone number may contain only digits, spaces, hyphens, parentheses and a leading +")]
    Characters,
    #[error("the phone number has too few or too many digits")]
    Length,
    #[error("start with + and the country code, or with 0 for a Japanese number")]
    Prefix,
}

/// E.164 allows at most 15 digits, country code included.
const MAX_DIGITS: usize = 15;
/// The shortest numbers in service (small island states) have 7 digits with
/// their country code; anything shorter is a typing slip.
const MIN_DIGITS: usize = 7;

/// Normalises a phone number to E.164 (`+819012345678`).
///
/// Accepts `+` international forms with spaces, hyphens, dots and parentheses
/// (`+81 (0)90-1234-5678` included), and Japanese domestic numbers starting
/// with 0 (`090-1234-5678` → `+819012345678`). Full-width digits and dashes,
/// as a Japanese input method produces them, count as their ASCII forms.
pub fn normalize_phone(input: &str) -> Result<String, PhoneError> {
    let folded: String = input.trim().chars().map(fold_width).collect();
    if folded.trim().is_empty() {
        return Err(PhoneError::Empty);
    }
    // "(0)" is the written convention for "drop this 0 when dialling from
    // abroad" (`+81 (0)90 …`); it must go before the parentheses do.
    let folded = folded.replace("(0)", "");
    let (international, rest) = match folded.trim_start().strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, folded.as_str()),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(PhoneError::Characters),
        }
    }
    if international { international_number(&digits) } else { domestic_number(&digits) }
}

fn international_number(digits: &str) -> Result<String, PhoneError> {
    if digits.is_empty() {
        return Err(PhoneError::Length);
    }
    if digits.starts_with('0') {
        // No country code starts with 0: this is `+0…`, a mistyped number.
        return Err(PhoneError::Prefix);
    }
    // `+81 090…` keeps the domestic trunk 0, a frequent slip; the network
    // would not route it, so drop it rather than send into the void.
    let digits = match digits.strip_prefix("810") {
        Some(national) => format!("81{national}"),
        None => digits.to_owned(),
    };
    if let Some(national) = digits.strip_prefix("81") {
        return japanese(national);
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
        return Err(PhoneError::Length);
    }
    Ok(format!("+{digits}"))
}

fn domestic_number(digits: &str) -> Result<String, PhoneError> {
    let Some(national) = digits.strip_prefix('0') else {
        return Err(if digits.is_empty() { PhoneError::Empty } else { PhoneError::Prefix });
    };
    // 00… and 010… are the prefixes for calling abroad from Japan, not
    // numbers; asking for the + form is clearer than guessing.
    if national.starts_with('0') || national.starts_with("10") {
        return Err(PhoneError::Prefix);
    }
    japanese(national)
}

/// A Japanese national number without the trunk 0: 9 digits (fixed lines) or
/// 10 (mobile 070/080/090, IP phones 050).
fn japanese(national: &str) -> Result<String, PhoneError> {
    if !(9..=10).contains(&national.len()) {
        return Err(PhoneError::Length);
    }
    Ok(format!("+81{national}"))
}

/// Full-width forms and the dashes that Japanese input methods produce.
fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '＋' => '+',
        '（' => '(',
        '）' => ')',
        '　' => ' ',
        '－' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' => '-',
        _ => c,
    }
}

/// For display: all but the last 3 digits masked, the country code kept
/// (`+819012345678` → `+81*******678`) so the user can tell which of their
/// numbers it is without the page disclosing it.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    // Too short to be a number: show nothing of it.
    if digits.len() < MIN_DIGITS {
        return "*".repeat(digits.len().max(3));
    }
    let shown_head = if e164.starts_with('+') { country_code_len(&digits) } else { 0 };
    let tail = digits.len() - 3;
    let mut out = String::with_capacity(digits.len() + 1);
    if shown_head > 0 {
        out.push('+');
    }
    for (i, d) in digits.iter().enumerate() {
        out.push(if i < shown_head || i >= tail { *d } else { '*' });
    }
    out
}

/// Length of the country code at the start of `digits` (ITU-T E.164 zones):
/// 1 and 7 are one digit, a fixed list of two-digit codes, three otherwise.
fn country_code_len(digits: &[char]) -> usize {
    const TWO: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    match digits.first() {
        Some('1' | '7') => 1,
        _ => {
            let head: String = digits.iter().take(2).collect();
            if TWO.contains(&head.as_str()) { 2 } else { 3 }
        }
    }
}
