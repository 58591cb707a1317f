//! Name resolution and checks of a parsed model: every name declared once and used
//! where it may be, states paired with their `ddt`, outputs with their `error`, lets in
//! order, and the dependency level of every expression.
//!
//! Levels: `Const` (numbers only), `Individual` (parameters, covariates and lets of
//! those: constant for one individual), `Dynamic` (depends on `t` or the states).

use std::collections::HashMap;

use super::ast::{Expr, ExprKind, Func, Name, ParamDecl, Stmt};
use super::error::{did_you_mean, Located, Pos};
use super::lexer::{OPTIONS, STATEMENTS};

/// What a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    /// Time (in the model's time unit).
    T,
    /// Time after the most recent dose (0 before the first).
    Tad,
    /// Amount of the most recent dose (0 before the first).
    LastDose,
    /// Parameter by index.
    Param(usize),
    /// Covariate by index.
    Cov(usize),
    /// Let by index (declaration order).
    Let(usize),
    /// State by index.
    State(usize),
}

/// Dependency level of an expression (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Const,
    Individual,
    Dynamic,
}

/// The declarations of a model, checked.
#[derive(Debug, Clone)]
pub(crate) struct Decls {
    pub symbols: HashMap<String, (Sym, Pos)>,
    pub params: Vec<ParamDecl>,
    pub covariates: Vec<(Name, f64, String)>,
    pub lets: Vec<(Name, Expr)>,
    /// Level of each let.
    pub let_levels: Vec<Level>,
    pub states: Vec<(Name, Expr)>,
    /// The derivative of each state (same order as `states`).
    pub ddts: Vec<Expr>,
}

/// Names that cannot be declared.
fn reserved(name: &str) -> bool {
    name == "t"
        || name == "tad"
        || name == "last_dose"
        || name == "inf"
        || STATEMENTS.contains(&name)
        || OPTIONS.contains(&name)
        || Func::by_name(name).is_some()
}

impl Decls {
    /// Collect and check the declarations (params, covariates, lets, states, ddt).
    pub fn collect(stmts: &[super::ast::Located<Stmt>]) -> Result<Decls, Located> {
        let mut d = Decls {
            symbols: HashMap::new(),
            params: Vec::new(),
            covariates: Vec::new(),
            lets: Vec::new(),
            let_levels: Vec::new(),
            states: Vec::new(),
            ddts: Vec::new(),
        };
        let mut ddts: Vec<(Name, Expr)> = Vec::new();
        for s in stmts {
            let (name, sym) = match &s.node {
                Stmt::Param(p) => (&p.name, Sym::Param(d.params.len())),
                Stmt::Covariate { name, .. } => (name, Sym::Cov(d.covariates.len())),
                Stmt::Let { name, .. } => (name, Sym::Let(d.lets.len())),
                Stmt::State { name, .. } => (name, Sym::State(d.states.len())),
                Stmt::Ddt { name, expr } => {
                    if let Some((first, _)) = ddts.iter().find(|(n, _)| n.text == name.text) {
                        return Err(Located::new(
                            name.pos,
                            format!(
                                "duplicate `ddt({})`: already given on line {}; expected one \
                                 derivative per state",
                                name.text, first.pos.line
                            ),
                        ));
                    }
                    ddts.push((name.clone(), expr.clone()));
                    continue;
                }
                _ => continue,
            };
            if reserved(&name.text) {
                return Err(Located::new(
                    name.pos,
                    format!("`{}` is a reserved word: expected another name", name.text),
                ));
            }
            if let Some((_, first)) = d.symbols.get(&name.text) {
                return Err(Located::new(
                    name.pos,
                    format!(
                        "duplicate name `{}`: already declared on line {}; expected a new name",
                        name.text, first.line
                    ),
                ));
            }
            d.symbols.insert(name.text.clone(), (sym, name.pos));
            match &s.node {
                Stmt::Param(p) => d.params.push(p.clone()),
                Stmt::Covariate {
                    name,
                    default,
                    unit,
                } => d.covariates.push((name.clone(), *default, unit.clone())),
                Stmt::Let { name, expr } => d.lets.push((name.clone(), expr.clone())),
                Stmt::State { name, init } => d.states.push((name.clone(), init.clone())),
                _ => {}
            }
        }
        // every state has exactly one ddt, every ddt names a state
        for (name, expr) in &ddts {
            match d.symbols.get(&name.text) {
                Some((Sym::State(_), _)) => {}
                _ => {
                    let states: Vec<&str> = d.states.iter().map(|s| s.0.text.as_str()).collect();
                    return Err(Located::new(
                        name.pos,
                        format!(
                            "`ddt({})` is not the derivative of a declared state{}: expected \
                             `state {} = INITIAL` before it is given a derivative",
                            name.text,
                            did_you_mean(&name.text, states.iter().copied()),
                            name.text
                        ),
                    ));
                }
            }
            let _ = expr;
        }
        for (name, _) in &d.states {
            match ddts.iter().find(|(n, _)| n.text == name.text) {
                Some((_, e)) => d.ddts.push(e.clone()),
                None => {
                    return Err(Located::new(
                        name.pos,
                        format!(
                            "state `{}` has no derivative: expected a `ddt({}) = ...` statement",
                            name.text, name.text
                        ),
                    ))
                }
            }
        }
        // let levels, in order; a let may use only earlier lets
        for i in 0..d.lets.len() {
            let level = d.level(&d.lets[i].1, Some(i))?;
            d.let_levels.push(level);
        }
        Ok(d)
    }

    /// The symbol a name refers to, with a "did you mean" error for an unknown name.
    pub fn lookup(&self, name: &str, pos: Pos) -> Result<Sym, Located> {
        match name {
            "t" => return Ok(Sym::T),
            "tad" => return Ok(Sym::Tad),
            "last_dose" => return Ok(Sym::LastDose),
            _ => {}
        }
        match self.symbols.get(name) {
            Some((sym, _)) => Ok(*sym),
            None => {
                let mut names: Vec<&str> = self.symbols.keys().map(|s| s.as_str()).collect();
                names.sort();
                names.extend(["t", "tad", "last_dose"]);
                Err(Located::new(
                    pos,
                    format!(
                        "unknown name `{name}`{}: expected a parameter, covariate, let, state, \
                         `t`, `tad` or `last_dose`",
                        did_you_mean(name, names.iter().copied())
                    ),
                ))
            }
        }
    }

    /// Check the names of `e` and return its level. `in_let` is the index of the let
    /// being defined (it may use only earlier lets).
    pub fn level(&self, e: &Expr, in_let: Option<usize>) -> Result<Level, Located> {
        Ok(match &e.kind {
            ExprKind::Num(_) => Level::Const,
            ExprKind::Name(n) => match self.lookup(n, e.pos)? {
                Sym::T | Sym::Tad | Sym::LastDose | Sym::State(_) => Level::Dynamic,
                Sym::Cov(_) => Level::Individual,
                Sym::Param(i) => {
                    if self.params[i].residual {
                        return Err(Located::new(
                            e.pos,
                            format!(
                                "`{n}` is a residual parameter and cannot be used in an \
                                 expression: expected a structural parameter (residual ones \
                                 appear only in `error` statements)"
                            ),
                        ));
                    }
                    Level::Individual
                }
                Sym::Let(j) => {
                    if let Some(i) = in_let {
                        if j == i {
                            return Err(Located::new(
                                e.pos,
                                format!("`let {n}` refers to itself: expected an expression of other names"),
                            ));
                        }
                        if j > i {
                            return Err(Located::new(
                                e.pos,
                                format!(
                                    "`{n}` is used before its definition on line {} (lets are \
                                     evaluated in order): expected it to be defined above",
                                    self.lets[j].0.pos.line
                                ),
                            ));
                        }
                    }
                    self.let_levels[j]
                }
            },
            ExprKind::Neg(a) => self.level(a, in_let)?,
            ExprKind::Binary(_, a, b) => self.level(a, in_let)?.max(self.level(b, in_let)?),
            ExprKind::Call(_, args) => {
                let mut l = Level::Const;
                for a in args {
                    l = l.max(self.level(a, in_let)?);
                }
                l
            }
        })
    }

    /// Where `e` uses `tad` or `last_dose`, directly or through lets (the first use).
    pub fn dose_symbol_use(&self, e: &Expr) -> Option<(Pos, &'static str)> {
        match &e.kind {
            ExprKind::Num(_) => None,
            ExprKind::Name(n) => match self.symbols.get(n).map(|s| s.0) {
                Some(Sym::Let(j)) => self.dose_symbol_use(&self.lets[j].1),
                _ if n == "tad" => Some((e.pos, "tad")),
                _ if n == "last_dose" => Some((e.pos, "last_dose")),
                _ => None,
            },
            ExprKind::Neg(a) => self.dose_symbol_use(a),
            ExprKind::Binary(_, a, b) => {
                self.dose_symbol_use(a).or_else(|| self.dose_symbol_use(b))
            }
            ExprKind::Call(_, args) => args.iter().find_map(|a| self.dose_symbol_use(a)),
        }
    }

    /// Lets used directly by `e`.
    pub fn lets_used(&self, e: &Expr, out: &mut Vec<usize>) {
        match &e.kind {
            ExprKind::Num(_) => {}
            ExprKind::Name(n) => {
                if let Some((Sym::Let(j), _)) = self.symbols.get(n) {
                    out.push(*j);
                }
            }
            ExprKind::Neg(a) => self.lets_used(a, out),
            ExprKind::Binary(_, a, b) => {
                self.lets_used(a, out);
                self.lets_used(b, out);
            }
            ExprKind::Call(_, args) => args.iter().for_each(|a| self.lets_used(a, out)),
        }
    }

    /// The dynamic lets needed (transitively) by `roots`, as a mask over lets.
    pub fn needed_dynamic_lets(&self, roots: &[&Expr]) -> Vec<bool> {
        let mut need = vec![false; self.lets.len()];
        let mut stack = Vec::new();
        for r in roots {
            self.lets_used(r, &mut stack);
        }
        while let Some(j) = stack.pop() {
            if !need[j] && self.let_levels[j] == Level::Dynamic {
                need[j] = true;
                self.lets_used(&self.lets[j].1, &mut stack);
            }
        }
        need
    }
}
