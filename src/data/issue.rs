//! Problems found in a data file, and the error that refuses a file.
//!
//! Every problem names the file, the line (header = line 1, first data row = line 2),
//! the column, the offending value and what was expected, so that a user can fix the
//! file without guessing:
//!
//! ```text
//! data.csv:14: column TIME: value 'abc': expected a number (days since infusion)
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The data cannot be used as written; the file is refused.
    Error,
    /// The data can be used, but the user should know (e.g. an unknown analyte name,
    /// records that are not observations and were set aside).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Line in the file (header = 1); 0 when the problem concerns the whole file.
    pub line: usize,
    /// Column name as written in the header (or the canonical name of a missing
    /// column); empty when the problem concerns a whole row.
    pub column: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// What was expected instead (or, for a warning, what was done).
    pub expected: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Issue {
    /// An error at `line`, `column`, with the offending `value`.
    pub fn error(
        file: &Path,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) -> Issue {
        Issue {
            file: file.to_path_buf(),
            line,
            column: column.to_string(),
            value: value.map(str::to_string),
            expected: expected.into(),
            severity: Severity::Error,
        }
    }

    /// A warning at `line`, `column`, with the offending `value`.
    pub fn warning(
        file: &Path,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(file, line, column, value, expected)
        }
    }

    /// Whether this problem refuses the file.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ":")?;
        if !self.column.is_empty() {
            write!(f, " column {}:", self.column)?;
        }
        if let Some(v) = &self.value {
            write!(f, " value '{}':", shown_value(v))?;
        }
        write!(f, " expected {}", self.expected)
    }
}

/// A value as shown in a message: line breaks and tabs escaped, at most 80 characters.
fn shown_value(v: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::new();
    for (k, c) in v.chars().enumerate() {
        if k == MAX {
            out.push_str("...");
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// The error of the data layer.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file was read but cannot be used; `issues` holds every error found (and the
    /// warnings, after the errors).
    #[error("{}", format_invalid(file, issues))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found, errors first.
        issues: Vec<Issue>,
    },
    /// A dataset could not be written (a sink error or a value that the format cannot
    /// hold).
    #[error("cannot write dataset: {reason}")]
    Write {
        /// What went wrong, naming the subject and record when relevant.
        reason: String,
    },
}

impl DataError {
    /// The errors (not the warnings) of an `Invalid` file; empty for other variants.
    pub fn errors(&self) -> Vec<&Issue> {
        match self {
            DataError::Invalid { issues, .. } => issues.iter().filter(|i| i.is_error()).collect(),
            _ => Vec::new(),
        }
    }
}

fn format_invalid(file: &Path, issues: &[Issue]) -> String {
    let n_err = issues.iter().filter(|i| i.is_error()).count();
    let n_warn = issues.len() - n_err;
    let mut s = format!(
        "{}: the data cannot be used: {} error{}",
        file.display(),
        n_err,
        if n_err == 1 { "" } else { "s" }
    );
    if n_warn > 0 {
        s.push_str(&format!(
            " and {} warning{}",
            n_warn,
            if n_warn == 1 { "" } else { "s" }
        ));
    }
    for sev in [Severity::Error, Severity::Warning] {
        for issue in issues.iter().filter(|i| i.severity == sev) {
            s.push_str(&format!("\n  {sev}: {issue}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_value_and_expectation() {
        let i = Issue::error(
            Path::new("d.csv"),
            14,
            "TIME",
            Some("abc"),
            "a number (days since infusion)",
        );
        assert_eq!(
            i.to_string(),
            "d.csv:14: column TIME: value 'abc': expected a number (days since infusion)"
        );
        let missing = Issue::error(Path::new("d.csv"), 1, "DV", None, "a column DV");
        assert_eq!(
            missing.to_string(),
            "d.csv:1: column DV: expected a column DV"
        );
    }

    #[test]
    fn invalid_lists_every_issue_errors_first() {
        let f = Path::new("d.csv");
        let e = DataError::Invalid {
            file: f.into(),
            issues: vec![
                Issue::warning(f, 3, "DVID", Some("cd4"), "a standard analyte"),
                Issue::error(f, 2, "DV", Some("x"), "a number"),
            ],
        };
        let text = e.to_string();
        assert!(text.starts_with("d.csv: the data cannot be used: 1 error and 1 warning"));
        let err_at = text.find("error: d.csv:2").unwrap();
        let warn_at = text.find("warning: d.csv:3").unwrap();
        assert!(err_at < warn_at);
    }
}
