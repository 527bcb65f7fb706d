//! What a handler returns: `Ok(reply)` for the page asked for, or a
//! [`Refusal`]. A refusal is either an answer of its own (the login redirect, a
//! 403 page) or a broken dependency, which the dispatcher logs with its cause
//! and answers with 503, so `?` on a store call can never hide an error.

use std::fmt::Display;

use super::Reply;

pub type Outcome = Result<Reply, Refusal>;

#[derive(Debug)]
pub enum Refusal {
    /// A reply other than the page asked for.
    Answer(Reply),
    /// Something this page needs failed; logged by the dispatcher, shown as 503.
    Broken { what: &'static str, cause: String },
}

impl Refusal {
    pub fn broken(what: &'static str, cause: impl Display) -> Refusal {
        Refusal::Broken { what, cause: cause.to_string() }
    }
}

impl From<Reply> for Refusal {
    fn from(r: Reply) -> Refusal {
        Refusal::Answer(r)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        Refusal::broken("the store", e)
    }
}

impl From<crate::accounts::AccountError> for Refusal {
    fn from(e: crate::accounts::AccountError) -> Refusal {
        Refusal::broken("an account operation", e)
    }
}

/// Lets a handler return a plain `Reply` (it cannot fail) or an `Outcome`.
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Reply {
    fn into_outcome(self) -> Outcome {
        Ok(self)
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}
