//! Recursive-descent parser of model files (grammar in docs/model-language.md).
//!
//! Expression precedence, lowest first:
//! `||` < `&&` < comparisons (`< <= > >= == !=`) < `+ -` < `* /` < unary `-` < `^`,
//! with `^` right-associative and binding tighter than unary minus, so
//! `-x^2 = -(x^2)` and `2^3^2 = 2^9 = 512`.
//!
//! Depth limit: every later pass over an expression (name checks, lowering,
//! instruction selection, dropping the tree) recurses once per level of the tree, so the
//! parser refuses an expression whose tree is more than [`MAX_DEPTH`] levels deep (a
//! long flat chain `a + b + c + ...` counts one level per operator, since it is a
//! left-leaning tree), and stops its own recursion at the same number of nested
//! parentheses, calls and prefix operators. The error is located where the limit is
//! crossed, so a deeply nested input gives exit 1 and a message, never a stack overflow.

use super::ast::{
    BinOp, ErrorKind, Expr, ExprKind, Func, Located as At, Name, ParamDecl, Stmt, TransformKw,
};
use super::error::{did_you_mean, Located, Pos};
use super::lexer::{tokenize, Tok, Token, STATEMENTS};

/// The deepest expression tree accepted (levels of operators, calls and parentheses).
///
/// Far above what a kinetic model needs (the built-in models stay under 15), and low
/// enough that every recursive pass fits in a 2 MiB thread stack in a debug build.
pub(crate) const MAX_DEPTH: usize = 256;

/// Parse a whole model text into statements.
pub(crate) fn parse(src: &str) -> Result<Vec<At<Stmt>>, Located> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        i: 0,
        nesting: 0,
    };
    let mut out = Vec::new();
    while p.peek() != &Tok::Eof {
        if p.peek() == &Tok::Newline {
            p.i += 1;
            continue;
        }
        let stmt = p.statement()?;
        p.end_of_statement()?;
        out.push(stmt);
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    /// Nested parentheses, calls and prefix operators open at the current token.
    nesting: usize,
}

type R<T> = Result<T, Located>;

/// An expression and the depth of its tree (1 for a number or a name).
type Deep = (Expr, usize);

/// The error for an expression deeper than [`MAX_DEPTH`], at `pos`.
fn too_deep(pos: Pos) -> Located {
    Located::new(
        pos,
        format!(
            "expression nested deeper than {MAX_DEPTH} levels: expected at most {MAX_DEPTH} \
             levels of parentheses, function calls and operators (split it with `let`)"
        ),
    )
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.i].tok
    }

    fn pos(&self) -> Pos {
        self.tokens[self.i].pos
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.i].clone();
        if t.tok != Tok::Eof {
            self.i += 1;
        }
        t
    }

    fn error<T>(&self, expected: &str) -> R<T> {
        Err(Located::new(
            self.pos(),
            format!("expected {expected}, found {}", self.peek().describe()),
        ))
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> R<()> {
        if *self.peek() == tok {
            self.next();
            Ok(())
        } else {
            self.error(expected)
        }
    }

    fn end_of_statement(&mut self) -> R<()> {
        match self.peek() {
            Tok::Newline => {
                self.next();
                Ok(())
            }
            Tok::Eof => Ok(()),
            Tok::RParen => Err(Located::new(
                self.pos(),
                "unbalanced `)`: expected the end of the statement",
            )),
            _ => self.error("the end of the statement"),
        }
    }

    fn name(&mut self, what: &str) -> R<Name> {
        match self.peek().clone() {
            Tok::Ident(text) => {
                let pos = self.pos();
                self.next();
                Ok(Name { text, pos })
            }
            _ => self.error(what),
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Tok::Ident(w) if w == kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn string(&mut self, what: &str) -> R<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => self.error(what),
        }
    }

    /// A literal number, optionally negative; `inf` allowed when `allow_inf`.
    fn number(&mut self, what: &str, allow_inf: bool) -> R<f64> {
        let neg = if *self.peek() == Tok::Minus {
            self.next();
            true
        } else {
            false
        };
        let x = match self.peek().clone() {
            Tok::Num(x) => x,
            Tok::Ident(w) if allow_inf && w == "inf" => f64::INFINITY,
            _ => return self.error(what),
        };
        self.next();
        Ok(if neg { -x } else { x })
    }

    fn statement(&mut self) -> R<At<Stmt>> {
        let pos = self.pos();
        let word = match self.peek().clone() {
            Tok::Ident(w) => w,
            _ => return self.error("a statement (`param`, `let`, `state`, `ddt`, `output`, ...)"),
        };
        self.next();
        let node = match word.as_str() {
            "model" => Stmt::Model(self.name("the model name after `model`")?),
            "description" => Stmt::Description(self.string("a quoted description")?),
            "reference" => Stmt::Reference(self.string("a quoted reference")?),
            "param" => Stmt::Param(self.param()?),
            "covariate" => {
                let name = self.name("a covariate name")?;
                self.expect(Tok::Assign, "`=` and the covariate's default value")?;
                let default = self.number("the covariate's default value (a number)", false)?;
                let unit = if self.keyword("unit") {
                    self.string("a quoted unit after `unit`")?
                } else {
                    String::new()
                };
                Stmt::Covariate {
                    name,
                    default,
                    unit,
                }
            }
            "let" | "state" => {
                let name = self.name(&format!("a name after `{word}`"))?;
                self.expect(Tok::Assign, &format!("`=` after `{word} {}`", name.text))?;
                let expr = self.expr()?;
                if word == "let" {
                    Stmt::Let { name, expr }
                } else {
                    Stmt::State { name, init: expr }
                }
            }
            "ddt" => {
                self.expect(Tok::LParen, "`(` after `ddt`")?;
                let name = self.name("a state name inside `ddt(...)`")?;
                self.expect(Tok::RParen, "`)` after the state name")?;
                self.expect(Tok::Assign, "`=` after `ddt(...)`")?;
                Stmt::Ddt {
                    name,
                    expr: self.expr()?,
                }
            }
            "dose" => {
                let state = self.name("the dosed state after `dose`")?;
                let scale = if self.keyword("scale") {
                    Some(self.expr()?)
                } else {
                    None
                };
                Stmt::Dose { state, scale }
            }
            "stop" => Stmt::Stop(self.expr()?),
            "output" => {
                let analyte = self.name("an analyte name after `output`")?;
                self.expect(Tok::Assign, "`=` after the analyte name")?;
                let expr = self.expr()?;
                let (mut unit, mut lloq) = (String::new(), None);
                loop {
                    if self.keyword("unit") {
                        unit = self.string("a quoted unit after `unit`")?;
                    } else if self.keyword("lloq") {
                        lloq = Some(self.number("a number after `lloq`", false)?);
                    } else {
                        break;
                    }
                }
                Stmt::Output {
                    analyte,
                    expr,
                    unit,
                    lloq,
                }
            }
            "error" => self.error_stmt()?,
            "solver" => {
                let method = self.name("a solver method (`dopri5` or `rodas4`)")?;
                let (mut rtol, mut atol) = (None, None);
                loop {
                    if self.keyword("rtol") {
                        rtol = Some(self.number("a number after `rtol`", false)?);
                    } else if self.keyword("atol") {
                        atol = Some(self.number("a number after `atol`", false)?);
                    } else {
                        break;
                    }
                }
                Stmt::Solver { method, rtol, atol }
            }
            other => {
                return Err(Located::new(
                    pos,
                    format!(
                        "unknown statement `{other}`{}: expected one of {}",
                        did_you_mean(other, STATEMENTS.iter().copied()),
                        STATEMENTS.join(", ")
                    ),
                ))
            }
        };
        Ok(At { node, pos })
    }

    fn param(&mut self) -> R<ParamDecl> {
        let name = self.name("a parameter name after `param`")?;
        self.expect(Tok::Assign, "`=` and the typical value")?;
        let value = self.number("the parameter's typical value (a number)", false)?;
        let mut d = ParamDecl {
            name,
            value,
            unit: String::new(),
            bounds: None,
            transform: None,
            iiv: None,
            fixed: false,
            residual: false,
        };
        loop {
            if self.keyword("unit") {
                d.unit = self.string("a quoted unit after `unit`")?;
            } else if self.keyword("bounds") {
                let lo = self.number("the lower bound after `bounds`", true)?;
                let hi = self.number("the upper bound after the lower bound", true)?;
                d.bounds = Some((lo, hi));
            } else if self.keyword("log") {
                d.transform = Some(TransformKw::Log);
            } else if self.keyword("logit") {
                d.transform = Some(TransformKw::Logit);
            } else if self.keyword("identity") {
                d.transform = Some(TransformKw::Identity);
            } else if self.keyword("iiv") {
                d.iiv = Some(self.number("the variance ω² after `iiv`", false)?);
            } else if self.keyword("fixed") {
                d.fixed = true;
            } else if self.keyword("residual") {
                d.residual = true;
            } else {
                return match self.peek() {
                    Tok::Newline | Tok::Eof => Ok(d),
                    _ => self.error(
                        "a parameter option (unit, bounds, log, logit, identity, iiv, fixed, \
                         residual) or the end of the line",
                    ),
                };
            }
        }
    }

    fn error_stmt(&mut self) -> R<Stmt> {
        let analyte = self.name("an analyte name after `error`")?;
        let kinds = [
            ("add", ErrorKind::Add, 1),
            ("prop", ErrorKind::Prop, 1),
            ("combined", ErrorKind::Combined, 2),
            ("logadd", ErrorKind::LogAdd, 1),
        ];
        let what = "an error model: add(P), prop(P), combined(PA, PB) or logadd(P)";
        let kw = match self.peek().clone() {
            Tok::Ident(w) => w,
            _ => return self.error(what),
        };
        let Some(&(_, kind, arity)) = kinds.iter().find(|(n, _, _)| *n == kw) else {
            return Err(Located::new(
                self.pos(),
                format!(
                    "unknown error model `{kw}`{}: expected {what}",
                    did_you_mean(&kw, kinds.iter().map(|k| k.0))
                ),
            ));
        };
        self.next();
        self.expect(Tok::LParen, &format!("`(` after `{kw}`"))?;
        let mut params = vec![self.name("a residual parameter name")?];
        while params.len() < arity {
            self.expect(
                Tok::Comma,
                &format!("`,` and a second parameter: `{kw}` takes {arity}"),
            )?;
            params.push(self.name("a residual parameter name")?);
        }
        self.expect(
            Tok::RParen,
            &format!(
                "`)`: `{kw}` takes {arity} parameter{}",
                if arity == 1 { "" } else { "s" }
            ),
        )?;
        Ok(Stmt::Error {
            analyte,
            kind,
            params,
        })
    }

    /// Any expression.
    pub(crate) fn expr(&mut self) -> R<Expr> {
        let at = self.pos();
        Ok(self.nested(at, |p| p.binary(0))?.0)
    }

    /// Run `f` one nesting level deeper (opened by the token at `at`), refusing to go
    /// beyond [`MAX_DEPTH`].
    fn nested(&mut self, at: Pos, f: impl FnOnce(&mut Self) -> R<Deep>) -> R<Deep> {
        if self.nesting >= MAX_DEPTH {
            return Err(too_deep(at));
        }
        self.nesting += 1;
        let out = f(self);
        self.nesting -= 1;
        out
    }

    /// A node over children of depth `depth`, refused beyond [`MAX_DEPTH`] (at `at`).
    fn node(kind: ExprKind, pos: Pos, depth: usize, at: Pos) -> R<Deep> {
        if depth >= MAX_DEPTH {
            return Err(too_deep(at));
        }
        Ok((Expr { kind, pos }, depth + 1))
    }

    fn binary(&mut self, level: usize) -> R<Deep> {
        const LEVELS: &[&[(Tok, BinOp)]] = &[
            &[(Tok::OrOr, BinOp::Or)],
            &[(Tok::AndAnd, BinOp::And)],
            &[
                (Tok::Lt, BinOp::Lt),
                (Tok::Le, BinOp::Le),
                (Tok::Gt, BinOp::Gt),
                (Tok::Ge, BinOp::Ge),
                (Tok::EqEq, BinOp::Eq),
                (Tok::Ne, BinOp::Ne),
            ],
            &[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)],
            &[(Tok::Star, BinOp::Mul), (Tok::Slash, BinOp::Div)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let (mut lhs, mut depth) = self.binary(level + 1)?;
        while let Some(&(_, op)) = LEVELS[level].iter().find(|(t, _)| t == self.peek()) {
            let at = self.pos();
            self.next();
            let (rhs, d) = self.binary(level + 1)?;
            let pos = lhs.pos;
            let kind = ExprKind::Binary(op, Box::new(lhs), Box::new(rhs));
            (lhs, depth) = Self::node(kind, pos, depth.max(d), at)?;
        }
        Ok((lhs, depth))
    }

    fn unary(&mut self) -> R<Deep> {
        if *self.peek() == Tok::Minus {
            let pos = self.pos();
            self.next();
            let (inner, d) = self.nested(pos, |p| p.unary())?;
            return Self::node(ExprKind::Neg(Box::new(inner)), pos, d, pos);
        }
        if *self.peek() == Tok::Plus {
            let at = self.pos();
            self.next();
            return self.nested(at, |p| p.unary());
        }
        let (base, db) = self.primary()?;
        if *self.peek() == Tok::Caret {
            let at = self.pos();
            self.next();
            let (exp, de) = self.nested(at, |p| p.unary())?;
            let pos = base.pos;
            let kind = ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp));
            return Self::node(kind, pos, db.max(de), at);
        }
        Ok((base, db))
    }

    fn primary(&mut self) -> R<Deep> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Num(x) => {
                self.next();
                Ok((
                    Expr {
                        kind: ExprKind::Num(x),
                        pos,
                    },
                    1,
                ))
            }
            Tok::LParen => {
                self.next();
                let e = self.nested(pos, |p| p.binary(0))?;
                self.expect(Tok::RParen, "`)` to close the `(`")?;
                Ok(e)
            }
            Tok::Ident(name) if STATEMENTS.contains(&name.as_str()) => {
                self.error("a number, a name, `-` or `(`")
            }
            Tok::Ident(name) => {
                self.next();
                if *self.peek() != Tok::LParen {
                    return Ok((
                        Expr {
                            kind: ExprKind::Name(name),
                            pos,
                        },
                        1,
                    ));
                }
                let Some((func, arity)) = Func::by_name(&name) else {
                    return Err(Located::new(
                        pos,
                        format!(
                            "unknown function `{name}`{}: expected one of exp, log, log10, \
                             sqrt, pow, abs, min, max, if",
                            did_you_mean(&name, Func::ALL.iter().map(|f| f.0))
                        ),
                    ));
                };
                self.next();
                let (mut args, mut depth) = (Vec::new(), 0);
                let mut arg = |p: &mut Self| -> R<Expr> {
                    let (e, d) = p.nested(pos, |p| p.binary(0))?;
                    depth = depth.max(d);
                    Ok(e)
                };
                if *self.peek() != Tok::RParen {
                    args.push(arg(self)?);
                    while *self.peek() == Tok::Comma {
                        self.next();
                        args.push(arg(self)?);
                    }
                }
                if *self.peek() != Tok::RParen {
                    return self.error(&format!("`,` or `)` in the arguments of `{name}`"));
                }
                if args.len() != arity {
                    return Err(Located::new(
                        pos,
                        format!(
                            "`{name}` takes {arity} argument{}, found {}",
                            if arity == 1 { "" } else { "s" },
                            args.len()
                        ),
                    ));
                }
                self.next();
                Self::node(ExprKind::Call(func, args), pos, depth, pos)
            }
            Tok::RParen => Err(Located::new(
                pos,
                "unbalanced `)`: expected a number, a name or `(`",
            )),
            _ => self.error("a number, a name, `-` or `(`"),
        }
    }
}
