//! The syntax tree of a model file, as parsed and before names are resolved.

use super::error::Pos;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Exp,
    Log,
    Log10,
    Sqrt,
    Pow,
    Abs,
    Min,
    Max,
    If,
}

impl Func {
    /// All functions with their names and arities.
    pub const ALL: &'static [(&'static str, Func, usize)] = &[
        ("exp", Func::Exp, 1),
        ("log", Func::Log, 1),
        ("log10", Func::Log10, 1),
        ("sqrt", Func::Sqrt, 1),
        ("pow", Func::Pow, 2),
        ("abs", Func::Abs, 1),
        ("min", Func::Min, 2),
        ("max", Func::Max, 2),
        ("if", Func::If, 3),
    ];

    /// The function called `name`.
    pub fn by_name(name: &str) -> Option<(Func, usize)> {
        Func::ALL
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, f, a)| (*f, *a))
    }
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    /// A number.
    Num(f64),
    /// A name (parameter, covariate, let, state, or `t`).
    Name(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function call (arity checked by the parser).
    Call(Func, Vec<Expr>),
}

/// An expression with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it starts.
    pub pos: Pos,
}

/// A name with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Name {
    /// The identifier.
    pub text: String,
    /// Where it is written.
    pub pos: Pos,
}

/// Transform written in a `param` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransformKw {
    Log,
    Logit,
    Identity,
}

/// A `param` statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamDecl {
    pub name: Name,
    pub value: f64,
    pub unit: String,
    pub bounds: Option<(f64, f64)>,
    pub transform: Option<TransformKw>,
    pub iiv: Option<f64>,
    pub fixed: bool,
    pub residual: bool,
}

/// The kind of residual error in an `error` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Add,
    Prop,
    Combined,
    LogAdd,
}

/// One statement of a model file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stmt {
    Model(Name),
    Description(String),
    Reference(String),
    Param(ParamDecl),
    Covariate {
        name: Name,
        default: f64,
        unit: String,
    },
    Let {
        name: Name,
        expr: Expr,
    },
    State {
        name: Name,
        init: Expr,
    },
    Ddt {
        name: Name,
        expr: Expr,
    },
    Dose {
        state: Name,
        scale: Option<Expr>,
        /// The data compartment number (`CMT`) this state receives doses of.
        cmt: Option<(f64, Pos)>,
    },
    Stop(Expr),
    Output {
        analyte: Name,
        expr: Expr,
        unit: String,
        lloq: Option<f64>,
        /// The data compartment number (`CMT`) of this output's observations.
        cmt: Option<(f64, Pos)>,
    },
    Error {
        analyte: Name,
        kind: ErrorKind,
        params: Vec<Name>,
    },
    Solver {
        method: Name,
        rtol: Option<f64>,
        atol: Option<f64>,
    },
    /// `block P Q ...`: a full covariance block of Ω over these parameters' η.
    Block(Vec<Name>),
    /// `time_unit hours|days`.
    TimeUnit(Name),
}

/// A statement with the position of its keyword.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located<T> {
    pub node: T,
    pub pos: Pos,
}
