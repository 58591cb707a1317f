//! Errors of the model layer: a model file that cannot be read, parsed or compiled.
//!
//! Every error about the text of a model names the place as `file:line:column` (1-based,
//! columns counted in characters), says what was found there and what was expected, and
//! for an unknown name suggests the closest declared one ("did you mean `x`?", by
//! Levenshtein distance).

use std::fmt;

/// A position in a model file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, 1-based.
    pub line: usize,
    /// Column in characters, 1-based.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A model file that could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The text is not a valid model: the message says what was found and what was
    /// expected.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The model file (or `<built-in NAME>`).
        file: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read model file `{path}`: {reason}")]
    Io {
        /// The path given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// Neither a built-in model nor an existing file.
    #[error("`{name}` is neither a built-in model ({available}) nor a model file{hint}")]
    Unknown {
        /// The name or path given.
        name: String,
        /// The built-in names, comma separated.
        available: String,
        /// A "did you mean" hint, possibly empty.
        hint: String,
    },
}

/// An error located in a model text, before the file name is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    /// Where.
    pub pos: Pos,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Located {
    /// An error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Located {
            pos,
            message: message.into(),
        }
    }

    /// Attach the file name.
    pub fn in_file(self, file: &str) -> ModelError {
        ModelError::Invalid {
            file: file.to_string(),
            line: self.pos.line,
            column: self.pos.column,
            message: self.message,
        }
    }
}

/// Levenshtein edit distance between two strings (by characters).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name` when it is close enough to be a likely typo
/// (distance ≤ 2, and less than the name's length), as a ` (did you mean `x`?)` hint.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let lower = name.to_ascii_lowercase();
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= 2 && *d < name.chars().count())
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("tmax", "tmax"), 0);
        assert_eq!(edit_distance("tmx", "tmax"), 1);
    }

    #[test]
    fn suggestion() {
        assert_eq!(
            did_you_mean("tmx", ["tmax", "cmax"]),
            " (did you mean `tmax`?)"
        );
        assert_eq!(did_you_mean("zzzzzz", ["tmax"]), "");
    }
}
