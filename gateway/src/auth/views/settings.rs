//! The organisation's settings: access route, 2FA switch, lines and networks.

use askama::Template;

use crate::ui::html::Ui;

/// One choice on the route page.
pub struct RouteOption {
    pub value: &'static str,
    pub name: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "auth/settings/route.html")]
pub struct RoutePage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub current: &'static str,
    /// Declared in the operator's policy file: shown, not offered.
    pub managed: bool,
    pub options: Vec<RouteOption>,
}

#[derive(Template)]
#[template(path = "auth/settings/route_confirm.html")]
pub struct RouteConfirmPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub old: &'static str,
    pub new: &'static str,
    /// The route's value, sent again with the confirmation.
    pub value: &'static str,
    /// The person changing it would cut themselves off: from where they are.
    pub self_lockout: Option<String>,
    /// How many users the change cuts off.
    pub cut_off: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/settings/route_done.html")]
pub struct RouteDonePage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub name: &'static str,
    pub note: &'static str,
}

#[derive(Template)]
#[template(path = "auth/settings/two_factor.html")]
pub struct TwoFactorPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub on: bool,
    /// Under `line-only` the switch has no effect and is not offered.
    pub line_only: bool,
    pub managed: bool,
    pub done: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "auth/settings/two_factor_confirm.html")]
pub struct TwoFactorConfirmPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub current: bool,
    pub new: bool,
    pub error: Option<&'static str>,
}

/// "On" or "Off" in the page's language.
fn state_name(ui: &Ui<'_>, on: bool) -> &'static str {
    if on { ui.t("On", "有効") } else { ui.t("Off", "無効") }
}

impl TwoFactorPage<'_> {
    fn state_name(&self, on: &bool) -> &'static str {
        state_name(&self.ui, *on)
    }
}

impl TwoFactorConfirmPage<'_> {
    fn state_name(&self, on: &bool) -> &'static str {
        state_name(&self.ui, *on)
    }

    fn state_value(&self, on: &bool) -> &'static str {
        if *on { "on" } else { "off" }
    }
}

#[derive(Template)]
#[template(path = "auth/settings/lines.html")]
pub struct LinesPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub lines: Vec<String>,
    pub networks: Vec<String>,
    /// Not declared in the operator's policy file.
    pub editable: bool,
    pub ok: Option<&'static str>,
    /// What was typed into each add form, and why it was refused.
    pub line_value: &'a str,
    pub line_error: Option<&'a str>,
    pub network_value: &'a str,
    pub network_error: Option<&'a str>,
    /// Each refused row of a many-at-once submission, in the visitor's language.
    pub line_report: Vec<String>,
    pub network_report: Vec<String>,
    /// The list's page: the search, the rows shown (from, to) of `total`, and
    /// the neighbouring pages' addresses.
    pub q: String,
    pub total: i64,
    pub shown: (i64, i64),
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub max_rows: usize,
}
