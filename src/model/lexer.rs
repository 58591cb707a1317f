//! Tokens of the model-file language, each with its line and column.
//!
//! The format is line-oriented: a newline ends a statement, except
//! - inside parentheses (an expression may run over several lines),
//! - after a binary operator, a comma or `=` (the expression continues below),
//! - before a line that starts with a statement option (`unit`, `lloq`, `bounds`, `iiv`,
//!   `scale`, `rtol`, ...), which continues the statement above.
//!
//! `#` starts a comment that runs to the end of the line.

use super::error::{Located, Pos};

/// Keywords that start a statement.
pub(crate) const STATEMENTS: &[&str] = &[
    "model",
    "description",
    "reference",
    "param",
    "covariate",
    "let",
    "state",
    "ddt",
    "dose",
    "stop",
    "output",
    "error",
    "solver",
];

/// Keywords that qualify a statement (and may start a continuation line).
pub(crate) const OPTIONS: &[&str] = &[
    "unit", "bounds", "log", "logit", "identity", "iiv", "fixed", "residual", "lloq", "scale",
    "rtol", "atol",
];

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name.
    Ident(String),
    /// A number literal.
    Num(f64),
    /// A double-quoted string (no escapes).
    Str(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `=`
    Assign,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// End of a statement.
    Newline,
    /// End of the file.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num(x) => format!("the number {x}"),
            Tok::Str(s) => format!("the string \"{s}\""),
            Tok::Newline => "the end of the line".into(),
            Tok::Eof => "the end of the file".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Assign => "=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Caret => "^",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            _ => "",
        }
    }

    /// A token after which a line break does not end the statement.
    fn continues(&self) -> bool {
        !matches!(
            self,
            Tok::Ident(_) | Tok::Num(_) | Tok::Str(_) | Tok::RParen | Tok::Newline | Tok::Eof
        ) && *self != Tok::LParen
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// The token.
    pub tok: Tok,
    /// Its position.
    pub pos: Pos,
}

/// Split a model text into tokens, with statement-ending `Newline`s placed by the rules
/// in the module header; the list ends with `Eof`.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, Located> {
    let mut raw = Vec::new();
    let mut open: Vec<Pos> = Vec::new();
    let lines: Vec<&str> = src.lines().collect();
    // The first word of the next non-blank line after each line (one backward pass, so
    // the look-ahead below stays linear in the file's size).
    let mut next_word: Vec<Option<String>> = vec![None; lines.len()];
    for li in (1..lines.len()).rev() {
        let text = lines[li].split('#').next().unwrap_or("").trim();
        next_word[li - 1] = if text.is_empty() {
            next_word[li].clone()
        } else {
            Some(
                text.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect(),
            )
        };
    }
    for (li, line) in lines.iter().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let pos = Pos {
                line: li + 1,
                column: i + 1,
            };
            if c == '#' {
                break;
            }
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let (tok, len) = if c.is_ascii_alphabetic() || c == '_' {
                let n = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                (Tok::Ident(chars[i..i + n].iter().collect()), n)
            } else if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            {
                number(&chars[i..], pos)?
            } else if c == '"' {
                match chars[i + 1..].iter().position(|c| *c == '"') {
                    Some(n) => (Tok::Str(chars[i + 1..i + 1 + n].iter().collect()), n + 2),
                    None => {
                        return Err(Located::new(
                            pos,
                            "unterminated string: expected a closing `\"` on the same line",
                        ))
                    }
                }
            } else {
                let next = chars.get(i + 1).copied();
                match (c, next) {
                    ('<', Some('=')) => (Tok::Le, 2),
                    ('>', Some('=')) => (Tok::Ge, 2),
                    ('=', Some('=')) => (Tok::EqEq, 2),
                    ('!', Some('=')) => (Tok::Ne, 2),
                    ('&', Some('&')) => (Tok::AndAnd, 2),
                    ('|', Some('|')) => (Tok::OrOr, 2),
                    ('<', _) => (Tok::Lt, 1),
                    ('>', _) => (Tok::Gt, 1),
                    ('=', _) => (Tok::Assign, 1),
                    ('(', _) => (Tok::LParen, 1),
                    (')', _) => (Tok::RParen, 1),
                    (',', _) => (Tok::Comma, 1),
                    ('+', _) => (Tok::Plus, 1),
                    ('-', _) => (Tok::Minus, 1),
                    ('*', _) => (Tok::Star, 1),
                    ('/', _) => (Tok::Slash, 1),
                    ('^', _) => (Tok::Caret, 1),
                    _ => {
                        return Err(Located::new(
                            pos,
                            format!(
                                "unexpected character `{c}`: expected a name, a number, \
                                 an operator (+ - * / ^ < <= > >= == != && ||) or `(`"
                            ),
                        ))
                    }
                }
            };
            match tok {
                Tok::LParen => open.push(pos),
                Tok::RParen if open.pop().is_none() => {
                    return Err(Located::new(
                        pos,
                        "unbalanced `)`: there is no `(` open before it",
                    ));
                }
                _ => {}
            }
            raw.push(Token { tok, pos });
            i += len;
        }
        if let Some(p) = open.last() {
            // A line break inside parentheses continues the statement, unless the next
            // line plainly starts a new statement.
            match &next_word[li] {
                Some(w) if !STATEMENTS.contains(&w.as_str()) => continue,
                _ => {
                    return Err(Located::new(
                        *p,
                        "unclosed `(`: expected a matching `)` before the statement ends",
                    ))
                }
            }
        }
        raw.push(Token {
            tok: Tok::Newline,
            pos: Pos {
                line: li + 1,
                column: line.chars().count() + 1,
            },
        });
    }
    let end = Pos {
        line: lines.len() + 1,
        column: 1,
    };
    // Whether the next token that is not a newline, after each token, is an option
    // keyword (one backward pass).
    let mut option_next = vec![false; raw.len()];
    for k in (1..raw.len()).rev() {
        option_next[k - 1] = match &raw[k].tok {
            Tok::Newline => option_next[k],
            Tok::Ident(w) => OPTIONS.contains(&w.as_str()),
            _ => false,
        };
    }
    // Place statement ends: drop a newline after an operator or before an option
    // keyword, and collapse repeated newlines.
    let mut out: Vec<Token> = Vec::with_capacity(raw.len() + 1);
    for (k, token) in raw.iter().enumerate() {
        if token.tok == Tok::Newline {
            let prev = out.last().map(|t| &t.tok);
            let next_is_option = option_next[k];
            if prev.is_none_or(|p| *p == Tok::Newline || p.continues()) || next_is_option {
                continue;
            }
        }
        out.push(token.clone());
    }
    if out.last().is_some_and(|t| t.tok != Tok::Newline) {
        out.push(Token {
            tok: Tok::Newline,
            pos: end,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: end,
    });
    Ok(out)
}

/// A number literal at the start of `chars`: digits, an optional fraction, an optional
/// exponent; anything glued to it (a letter, a second `.`) makes it a bad number.
fn number(chars: &[char], pos: Pos) -> Result<(Tok, usize), Located> {
    let digits = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut n = digits(0);
    if chars.get(n) == Some(&'.') {
        n += 1 + digits(n + 1);
    }
    if matches!(chars.get(n), Some('e' | 'E')) {
        let mut m = n + 1;
        if matches!(chars.get(m), Some('+' | '-')) {
            m += 1;
        }
        let d = digits(m);
        if d > 0 {
            n = m + d;
        } else {
            n = m;
            return Err(bad_number(chars, n, pos));
        }
    }
    if chars
        .get(n)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
    {
        return Err(bad_number(chars, n, pos));
    }
    let text: String = chars[..n].iter().collect();
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok((Tok::Num(x), n)),
        _ => Err(bad_number(chars, n, pos)),
    }
}

fn bad_number(chars: &[char], n: usize, pos: Pos) -> Located {
    let extra = chars[n..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
        .count();
    let text: String = chars[..n + extra].iter().collect();
    Located::new(
        pos,
        format!("bad number `{text}`: expected a finite number such as 1, 1.5, 2e6 or 1e-6"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_operators() {
        assert_eq!(
            toks("x = 1.5e-3 <= 2"),
            vec![
                Tok::Ident("x".into()),
                Tok::Assign,
                Tok::Num(1.5e-3),
                Tok::Le,
                Tok::Num(2.0),
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn continuation_rules() {
        // inside parentheses, after an operator, before an option keyword
        let t = toks("let a = (1 +\n 2)\nlet b = 1 +\n 2\nparam c = 1\n  unit \"d\"\n");
        assert_eq!(t.iter().filter(|t| **t == Tok::Newline).count(), 3);
    }

    #[test]
    fn bad_numbers() {
        assert!(tokenize("let a = 1.2.3")
            .unwrap_err()
            .message
            .contains("1.2.3"));
        assert!(tokenize("let a = 1e").is_err());
        assert!(tokenize("let a = 2x").is_err());
    }
}
