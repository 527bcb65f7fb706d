//! The two languages of the UI and its mails, and how a request picks one.

/// Japanese first: the service's home market. English for everyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Ja,
    En,
}

/// The cookie that remembers an explicit choice (`?lang=ja|en` on any auth page).
pub const COOKIE: &str = "gw_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// Chooses by an explicit choice first, then `Accept-Language` (highest
    /// q-value among ja and en), then the configured default.
    pub fn choose(explicit: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
        if let Some(l) = explicit.and_then(Lang::parse) {
            return l;
        }
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = match tag.split('-').next().unwrap_or("") {
                "ja" => Lang::Ja,
                "en" => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(default)
    }
}

impl From<config::Language> for Lang {
    fn from(l: config::Language) -> Lang {
        match l {
            config::Language::Ja => Lang::Ja,
            config::Language::En => Lang::En,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice() {
        for d in [Lang::Ja, Lang::En] {
            assert_eq!(Lang::choose(None, Some("ja-JP,ja;q=0.9,en;q=0.8"), d), Lang::Ja);
            assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9,ja;q=0.5"), d), Lang::En);
            assert_eq!(Lang::choose(None, Some("fr-FR, ja;q=0.3"), d), Lang::Ja);
            assert_eq!(Lang::choose(Some("ja"), Some("en"), d), Lang::Ja);
            assert_eq!(Lang::choose(Some("xx"), Some("ja"), d), Lang::Ja);
            // No preference we offer: the configured default.
            assert_eq!(Lang::choose(None, Some("fr-FR"), d), d);
            assert_eq!(Lang::choose(None, None, d), d);
            assert_eq!(Lang::choose(None, Some("ja;q=0"), d), d);
        }
        assert_eq!(Lang::from(config::UiSettings::default().default_language), Lang::Ja, "Japanese unless set");
    }
}
