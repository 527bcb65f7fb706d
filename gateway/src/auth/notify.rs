//! Notices mailed from a page without waiting for the relay (the account
//! operations send their own; links are made by `accounts::mailed_link`).

use crate::mail::{Notice, render};

use super::Visit;

/// Sends a notice in the visitor's language, without holding up the answer.
pub fn mail(v: &Visit<'_>, to: &str, notice: &Notice<'_>) {
    let days = v.app.cfg.links.validity.as_secs() / 86400;
    let msg = render(notice, v.lang, &v.app.cfg.ui.product_name, days);
    v.app.mailer.send_later(to.to_owned(), msg);
}
