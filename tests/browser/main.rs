//! Real-browser tests: Chromium, driven through chromedriver, against the real
//! gateway binary and the demo origin (started by the end-to-end harness). They
//! check what HTTP-level tests cannot: that the pages work when a person clicks
//! through them, in both languages and at a phone's width.
//!
//! A new test: `if !harness::available() { return; }`, start a gateway
//! (`harness::gateway`), `Browser::open("<test name>", "en-US")`, drive the
//! pages, and end with `browser.close().await`. Use the multi-thread runtime:
//! a failing test's screenshot is taken from `Drop` by blocking one worker.

#[path = "../e2e/support.rs"]
mod support;

mod harness;

#[path = "../support/oidc.rs"]
mod oidc;

#[path = "../support/fed.rs"]
mod fed;

mod federated;

mod login_page;
mod screens_admin;
mod screens_settings;
mod screens_two_step;
mod settings;
mod two_factor;
