use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem, pointing at the file and, where known, the line and
/// column (both 1-based) of the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", Where(.file, *.line, *.column))]
pub struct ConfigError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// 1-based column, when the problem can be pinned to one.
    pub column: Option<usize>,
    /// What is wrong, phrased for the operator who has to fix it.
    pub message: String,
}

impl ConfigError {
    /// A problem with the file as a whole (unreadable, missing, …).
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError { file: file.into(), line: None, column: None, message: message.into() }
    }

    /// A problem at a place found by [`crate::locate::locate`], if one was found.
    pub(crate) fn at(file: &Path, place: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
            message: message.into(),
        }
    }
}

struct Where<'a>(&'a Path, Option<usize>, Option<usize>);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())?;
        if let Some(line) = self.1 {
            write!(f, ":{line}")?;
            if let Some(column) = self.2 {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_and_without_location() {
        let e = ConfigError { file: "p.yaml".into(), line: Some(4), column: Some(5), message: "bad".into() };
        assert_eq!(e.to_string(), "p.yaml:4:5: bad");
        assert_eq!(ConfigError::new("p.yaml", "gone").to_string(), "p.yaml: gone");
    }
}
