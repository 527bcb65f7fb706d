//! Trusted HTML has its own type. A `Markup` comes only from a rendered
//! template (which escapes every value by default), from text escaped here, or
//! from a `&'static str` literal written in this code base; a `String` that
//! came from a request can never pass as one.

use std::fmt;

use askama::Template;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markup(String);

impl Markup {
    /// A rendered template.
    pub fn render(t: &impl Template) -> Result<Markup, askama::Error> {
        t.render().map(Markup)
    }

    /// Plain text, escaped.
    pub fn text(s: &str) -> Markup {
        Markup(escape(s))
    }

    /// Markup written in the source (a bilingual paragraph with a link, say).
    /// Only literals: `'static` keeps request data out.
    pub fn literal(s: &'static str) -> Markup {
        Markup(s.to_owned())
    }

    /// The QR code of an `otpauth://` URI, drawn by the QR encoder: an SVG of
    /// squares and a fixed title, whatever the URI holds.
    pub fn qr_code(uri: &str) -> Markup {
        Markup(crate::second_factor::qr_svg(uri))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Markup {}

/// Text made safe to place in HTML, as element content or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(source = "<p>{{ text }}</p>{{ trusted }}", ext = "html")]
    struct Probe<'a> {
        text: &'a str,
        trusted: Markup,
    }

    #[test]
    fn values_are_escaped_and_only_markup_is_not() {
        let p = Probe { text: "<script>x</script>\"'&", trusted: Markup::literal("<b>ok</b>") };
        let html = Markup::render(&p).unwrap();
        assert!(
            html.as_str().starts_with("<p>&#60;script&#62;") || html.as_str().starts_with("<p>&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.as_str().contains("<script>"));
        assert!(html.as_str().ends_with("<b>ok</b>"));
        assert_eq!(Markup::text("<a>").as_str(), "&lt;a&gt;");
    }
}
