//! Symbolic differentiation of model expressions, on the checked syntax tree before
//! lowering, so the derivative programs go through the same compiler (constant folding,
//! hoisting of individual-level values, instruction selection) and run as native code
//! or in the interpreter exactly like the right-hand side.
//!
//! A [`Differentiator`] differentiates with respect to chosen variables (states and
//! parameters). Sharing: the derivative of every `let` with respect to every variable it
//! depends on is itself a let (`∂name/∂v`), defined once after the originals and
//! referenced by name, so a derivative refers to a let's value and its derivative instead
//! of copying the let's expression; a derivative that is identically 0 is no let at all.
//! Derivatives of individual-level lets with respect to parameters are individual-level
//! and are computed once per individual, like the lets themselves.
//!
//! Rules (d = ∂/∂v; `a`, `b` sub-expressions, `c` a condition):
//!
//! ```text
//! d(a ± b) = da ± db          d(a·b) = da·b + a·db        d(a/b) = (da − (a/b)·db)/b
//! d(−a) = −da                 d exp(a) = exp(a)·da         d log(a) = da/a
//! d log10(a) = da/(a·ln 10)   d sqrt(a) = da/(2·sqrt(a))
//! d a^b = b·a^(b−1)·da                       (b independent of v)
//!       = a^b·log(a)·db                      (a independent of v)
//!       = a^b·(db·log(a) + b·da/a)           (both depend on v)
//! ```
//!
//! Functions that are not differentiable everywhere get one-sided derivatives, chosen as
//! the branch their value is taken from:
//!
//! ```text
//! d min(a, b) = if(a <= b, da, db)     (at a tie, da)
//! d max(a, b) = if(a >= b, da, db)     (at a tie, da)
//! d abs(a)    = if(a < 0, −da, da)     (at 0, da: the right derivative in a)
//! d if(c, a, b) = if(c, da, db)        (the condition is piecewise constant: d c = 0)
//! ```
//!
//! Comparisons, `and`, `or`, numbers, `t`, `tad`, `last_dose` and covariates have
//! derivative 0.

use super::ast::{BinOp, Expr, ExprKind, Func, Name};
use super::resolve::{Decls, Sym};

/// A variable to differentiate with respect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    /// A parameter by index.
    Param(usize),
    /// A state by index.
    State(usize),
}

/// Differentiates expressions of a model with respect to a list of variables.
#[derive(Debug, Clone)]
pub(crate) struct Differentiator {
    vars: Vec<Var>,
    /// The model's declarations followed by the derivative lets.
    decls: Decls,
    /// For each original let and each variable: the name of its derivative let, `None`
    /// when the derivative is identically 0.
    let_derivs: Vec<Vec<Option<String>>>,
}

impl Differentiator {
    /// Prepare the derivatives of `decls`'s lets with respect to `vars`.
    pub fn new(decls: &Decls, vars: Vec<Var>) -> Differentiator {
        let mut d = Differentiator {
            vars,
            decls: decls.clone(),
            let_derivs: Vec::with_capacity(decls.lets.len()),
        };
        for (j, (name, expr)) in decls.lets.iter().enumerate() {
            let mut row = Vec::with_capacity(d.vars.len());
            for k in 0..d.vars.len() {
                let Some(de) = d.derivative(expr, k) else {
                    row.push(None);
                    continue;
                };
                let text = format!("∂{}/∂{}", name.text, d.var_name(k));
                let index = d.decls.lets.len();
                d.decls
                    .symbols
                    .insert(text.clone(), (Sym::Let(index), name.pos));
                let level = d.decls.level(&de, None).unwrap_or(d.decls.let_levels[j]);
                d.decls.lets.push((
                    Name {
                        text: text.clone(),
                        pos: name.pos,
                    },
                    de,
                ));
                d.decls.let_levels.push(level);
                row.push(Some(text));
            }
            d.let_derivs.push(row);
        }
        d
    }

    /// Number of the model's own lets (the derivative lets follow them).
    pub fn base_lets(&self) -> usize {
        self.let_derivs.len()
    }

    /// The declarations extended with the derivative lets (compile with these).
    pub fn decls(&self) -> &Decls {
        &self.decls
    }

    fn var_name(&self, k: usize) -> &str {
        match self.vars[k] {
            Var::Param(i) => &self.decls.params[i].name.text,
            Var::State(i) => &self.decls.states[i].0.text,
        }
    }

    /// ∂e/∂(variable k), `None` when identically 0.
    pub fn derivative(&self, e: &Expr, k: usize) -> Option<Expr> {
        let pos = e.pos;
        match &e.kind {
            ExprKind::Num(_) => None,
            ExprKind::Name(n) => match self.decls.symbols.get(n).map(|s| s.0) {
                Some(Sym::Param(i)) if self.vars[k] == Var::Param(i) => Some(num(1.0, e)),
                Some(Sym::State(i)) if self.vars[k] == Var::State(i) => Some(num(1.0, e)),
                Some(Sym::Let(j)) => {
                    self.let_derivs
                        .get(j)
                        .and_then(|row| row[k].clone())
                        .map(|text| Expr {
                            kind: ExprKind::Name(text),
                            pos,
                        })
                }
                _ => None,
            },
            ExprKind::Neg(a) => self.derivative(a, k).map(neg),
            ExprKind::Binary(op, a, b) => {
                let (da, db) = (self.derivative(a, k), self.derivative(b, k));
                match op {
                    BinOp::Add => add(da, db),
                    BinOp::Sub => match (da, db) {
                        (da, None) => da,
                        (None, Some(db)) => Some(neg(db)),
                        (Some(da), Some(db)) => Some(bin(BinOp::Sub, da, db)),
                    },
                    BinOp::Mul => add(
                        da.map(|da| mul(da, (**b).clone())),
                        db.map(|db| mul((**a).clone(), db)),
                    ),
                    BinOp::Div => {
                        let quotient = e.clone();
                        let top = match (da, db) {
                            (None, None) => return None,
                            (Some(da), None) => da,
                            (da, Some(db)) => {
                                let q = mul(quotient, db);
                                match da {
                                    Some(da) => bin(BinOp::Sub, da, q),
                                    None => neg(q),
                                }
                            }
                        };
                        Some(bin(BinOp::Div, top, (**b).clone()))
                    }
                    BinOp::Pow => power(e, a, b, da, db),
                    _ => None,
                }
            }
            ExprKind::Call(f, args) => {
                let d: Vec<Option<Expr>> = args.iter().map(|a| self.derivative(a, k)).collect();
                if d.iter().all(Option::is_none) {
                    return None;
                }
                let a = &args[0];
                let zero_or = |x: &Option<Expr>| x.clone().unwrap_or_else(|| num(0.0, e));
                match f {
                    Func::Exp => d[0].clone().map(|da| mul(e.clone(), da)),
                    Func::Log => d[0].clone().map(|da| bin(BinOp::Div, da, a.clone())),
                    Func::Log10 => d[0].clone().map(|da| {
                        bin(
                            BinOp::Div,
                            da,
                            mul(a.clone(), num(std::f64::consts::LN_10, e)),
                        )
                    }),
                    Func::Sqrt => d[0]
                        .clone()
                        .map(|da| bin(BinOp::Div, da, mul(num(2.0, e), e.clone()))),
                    Func::Pow => power(e, a, &args[1], d[0].clone(), d[1].clone()),
                    Func::Abs => d[0].clone().map(|da| {
                        let lt = bin(BinOp::Lt, a.clone(), num(0.0, e));
                        call(Func::If, vec![lt, neg(da.clone()), da], pos)
                    }),
                    Func::Min | Func::Max => {
                        let op = if *f == Func::Min {
                            BinOp::Le
                        } else {
                            BinOp::Ge
                        };
                        let c = bin(op, a.clone(), args[1].clone());
                        Some(call(Func::If, vec![c, zero_or(&d[0]), zero_or(&d[1])], pos))
                    }
                    Func::If => Some(call(
                        Func::If,
                        vec![args[0].clone(), zero_or(&d[1]), zero_or(&d[2])],
                        pos,
                    )),
                }
            }
        }
    }
}

/// Number of nodes of an expression (to bound the size of derivative programs).
pub(crate) fn size(e: &Expr) -> usize {
    1 + match &e.kind {
        ExprKind::Num(_) | ExprKind::Name(_) => 0,
        ExprKind::Neg(a) => size(a),
        ExprKind::Binary(_, a, b) => size(a) + size(b),
        ExprKind::Call(_, args) => args.iter().map(size).sum(),
    }
}

/// d(a^b) given da and db (`e` is a^b itself).
fn power(e: &Expr, a: &Expr, b: &Expr, da: Option<Expr>, db: Option<Expr>) -> Option<Expr> {
    let ln_a = || call(Func::Log, vec![a.clone()], a.pos);
    match (da, db) {
        (None, None) => None,
        (Some(da), None) => {
            let lowered = match b.kind {
                ExprKind::Num(x) => num(x - 1.0, b),
                _ => bin(BinOp::Sub, b.clone(), num(1.0, b)),
            };
            let pow = bin(BinOp::Pow, a.clone(), lowered);
            Some(mul(mul(b.clone(), pow), da))
        }
        (None, Some(db)) => Some(mul(mul(e.clone(), ln_a()), db)),
        (Some(da), Some(db)) => {
            let inner = bin(
                BinOp::Add,
                mul(db, ln_a()),
                bin(BinOp::Div, mul(b.clone(), da), a.clone()),
            );
            Some(mul(e.clone(), inner))
        }
    }
}

fn num(x: f64, at: &Expr) -> Expr {
    Expr {
        kind: ExprKind::Num(x),
        pos: at.pos,
    }
}

fn is_num(e: &Expr, x: f64) -> bool {
    matches!(e.kind, ExprKind::Num(y) if y == x)
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    let pos = a.pos;
    Expr {
        kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
        pos,
    }
}

fn call(f: Func, args: Vec<Expr>, pos: super::error::Pos) -> Expr {
    Expr {
        kind: ExprKind::Call(f, args),
        pos,
    }
}

/// `−a`, with `−(−x)` = x.
fn neg(a: Expr) -> Expr {
    match a.kind {
        ExprKind::Neg(x) => *x,
        ExprKind::Num(x) => num(-x, &a),
        _ => {
            let pos = a.pos;
            Expr {
                kind: ExprKind::Neg(Box::new(a)),
                pos,
            }
        }
    }
}

/// `a·b`, dropping factors of 1 (exact).
fn mul(a: Expr, b: Expr) -> Expr {
    if is_num(&a, 1.0) {
        b
    } else if is_num(&b, 1.0) {
        a
    } else if is_num(&a, -1.0) {
        neg(b)
    } else if is_num(&b, -1.0) {
        neg(a)
    } else {
        bin(BinOp::Mul, a, b)
    }
}

/// `a + b` of two derivatives, either of which may be 0.
fn add(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (a, None) => a,
        (None, b) => b,
        (Some(a), Some(b)) => Some(match b.kind {
            ExprKind::Neg(x) => bin(BinOp::Sub, a, *x),
            _ => bin(BinOp::Add, a, b),
        }),
    }
}
