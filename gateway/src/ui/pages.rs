//! Pages the proxy answers with on its own: refusals and errors.

use policy::DenyKind;

use super::html::{escape, page};

pub fn denied(product: &str, kind: DenyKind) -> String {
    match kind {
        DenyKind::LineRequired => line_auth_failed(product),
        DenyKind::PathRule => page(
            product,
            "This address is not available",
            "<p>The service does not offer this address to anyone. If you followed a link, it may be out of date.</p>",
        ),
        DenyKind::Role => page(
            product,
            "You do not have access to this page",
            "<p>This page is for users with a higher role in your organisation. \
             Ask your organisation's administrator if you need it.</p>",
        ),
    }
}

pub fn line_auth_failed(product: &str) -> String {
    page(
        product,
        "Line authentication failed",
        "<p>Your organisation allows access to this service only from its registered carrier lines \
         or networks, and this connection was not recognised as one of them.</p>\
         <p>Please check:</p><ol>\
         <li>that you are connected through your organisation's registered line or network;</li>\
         <li>that your organisation's access route setting is what you expect \
         (\"line authentication only\" blocks access from the internet);</li>\
         <li>that the line number is registered correctly: CAF followed by 10 letters or digits, \
         or COP followed by 8.</li></ol>\
         <p class=\"hint\">Your organisation's administrator can check the registered lines and the access route.</p>",
    )
}

pub fn second_factor_required(product: &str, logout_form: &str) -> String {
    page(
        product,
        "2-step verification required",
        &format!(
            "<p>Your organisation requires a second step after the password for sign-ins from the internet.</p>\
             <p>Setting up 2-step verification is not available in this version of the gateway yet. \
             Ask your administrator, or connect through your organisation's registered line.</p>{logout_form}"
        ),
    )
}

pub fn misdirected(product: &str) -> String {
    page(product, "Unknown address", "<p>This server does not serve the host name in your request.</p>")
}

pub fn bad_request(product: &str, what: &str) -> String {
    page(product, "The request could not be read", &format!("<p>{}</p>", escape(what)))
}

pub fn not_found(product: &str) -> String {
    page(product, "Page not found", "<p>There is no page at this address.</p>")
}

pub fn unavailable(product: &str) -> String {
    page(
        product,
        "The service is temporarily unavailable",
        "<p>The sign-in service cannot reach its database right now. Please try again in a moment.</p>",
    )
}
