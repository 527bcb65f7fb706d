//! The auth pages' views: one struct per template under `gateway/templates/`,
//! holding exactly what the page shows. Every value is escaped by the template
//! unless it is a [`Markup`](crate::ui::markup::Markup).

mod login;

pub use login::LoginPage;
pub mod account;
pub mod sudo;
pub mod settings;
