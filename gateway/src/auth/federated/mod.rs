//! Signing in through an identity provider or a tenant's directory (SPEC
//! section 9): the buttons and the directory entry (`entry`), the trip to the
//! provider (`flow`), and the way back (`callback`, and `bind` for the flows
//! that bind an account). The protocol itself is `crate::federation`.

mod bind;
mod callback;
mod entry;
pub mod flow;
mod pages;
mod sign_in;

pub use bind::method_label;
pub use callback::callback;
pub use entry::{buttons, directory_form, directory_spec, directory_submit, provider, start_directory, start_provider};
pub use flow::{Begin, begin};
pub use pages::{Refused, refused};
