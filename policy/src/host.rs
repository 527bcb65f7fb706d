use std::fmt;

/// Which of the two public hostnames a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// Reachable from the internet; password users need a second factor.
    Ordinary,
    /// Reached through the carrier's closed network; the line is the second factor.
    LineAuth,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Ordinary => "ordinary",
            HostKind::LineAuth => "line-auth",
        }
    }

    pub fn parse(s: &str) -> Option<HostKind> {
        match s {
            "ordinary" => Some(HostKind::Ordinary),
            "line-auth" => Some(HostKind::LineAuth),
            _ => None,
        }
    }
}

impl fmt::Display for HostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
