use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be one of {expected}; got {got:?}")]
pub struct ParseError {
    pub what: &'static str,
    pub expected: &'static str,
    pub got: String,
}

/// A user's role in their tenant. Ordered: a rule that requires `admin` is
/// satisfied by `admin` and `owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    User,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Result<Role, ParseError> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(ParseError { what: "role", expected: "user, admin or owner", got: s.to_owned() }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the first factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginMethod {
    Password,
    /// OpenID Connect or Active Directory: the identity provider owns the second factor.
    Federated,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Password => "password",
            LoginMethod::Federated => "federated",
        }
    }

    pub fn parse(s: &str) -> Result<LoginMethod, ParseError> {
        match s {
            "password" => Ok(LoginMethod::Password),
            "federated" => Ok(LoginMethod::Federated),
            _ => Err(ParseError { what: "login method", expected: "password or federated", got: s.to_owned() }),
        }
    }
}

/// How the second factor of a session was earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    Sms,
    Totp,
    Recovery,
    /// A remembered browser stands for an earlier completed second factor.
    Remembered,
    /// The registered carrier line, on the line-auth hostname only.
    Line,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Sms => "sms",
            Factor::Totp => "totp",
            Factor::Recovery => "recovery",
            Factor::Remembered => "remembered",
            Factor::Line => "line",
        }
    }

    pub fn parse(s: &str) -> Result<Factor, ParseError> {
        match s {
            "sms" => Ok(Factor::Sms),
            "totp" => Ok(Factor::Totp),
            "recovery" => Ok(Factor::Recovery),
            "remembered" => Ok(Factor::Remembered),
            "line" => Ok(Factor::Line),
            _ => Err(ParseError {
                what: "second factor",
                expected: "sms, totp, recovery, remembered or line",
                got: s.to_owned(),
            }),
        }
    }
}
