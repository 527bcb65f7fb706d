//! The auth pages' views: one struct per template under `gateway/templates/`,
//! holding exactly what the page shows. Every value is escaped by the template
//! unless it is a [`Markup`](crate::ui::markup::Markup).

pub mod account;
pub mod admin;
pub mod federated;
mod invite;
pub mod links;
mod login;
pub mod methods;
pub mod settings;
pub mod sudo;
pub mod two_step;

pub use invite::{InviteConfirm, InviteDone, InviteForm};
pub use login::{LineConsent, LoginPage, LoginThrottled};
