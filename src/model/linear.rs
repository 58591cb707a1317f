//! Which models are linear ODEs with constant coefficients between events:
//!
//! ```text
//! y' = A·y + c        A, c built from parameters, covariates and numbers only
//! ```
//!
//! every `ddt` affine in the states, without `t` (compartmental PK: one- and
//! multi-compartment models with first-order transfer and elimination). Between two
//! events such a system has the exact solution y(t0 + h) = e^{Ah}·y0 + ∫₀ʰ e^{As} ds·c,
//! which the solver uses under `solver auto` ([`crate::solve`], `linear`), as NONMEM's
//! ADVAN routines and the matrix-exponential solutions of nlmixr2/PKPDsim do.
//!
//! Degrees: 0 for an expression of parameters, covariates and numbers, 1 for one affine
//! in the states, none (not affine) otherwise. `a·b` is affine when at most one factor
//! is; `a/b` when b has degree 0; `-a`, `a ± b` keep the larger degree; functions,
//! powers and comparisons only of degree-0 arguments. `t`, `tad` and `last_dose` make an
//! expression not affine (a coefficient that changes within a segment).

use super::ast::{BinOp, Expr, ExprKind};
use super::resolve::{Decls, Level, Sym};

impl Decls {
    /// Every `ddt` is affine in the states with constant coefficients (module docs).
    pub fn ddts_are_linear(&self) -> bool {
        if self.states.is_empty() {
            return false;
        }
        // lets refer only to earlier lets: one pass in order
        let mut lets: Vec<Option<u8>> = Vec::with_capacity(self.lets.len());
        for (j, (_, e)) in self.lets.iter().enumerate() {
            let d = if self.let_levels[j] < Level::Dynamic {
                Some(0)
            } else {
                self.degree(e, &lets)
            };
            lets.push(d);
        }
        self.ddts.iter().all(|e| self.degree(e, &lets).is_some())
    }

    /// The degree of `e` in the states (module docs), given those of the lets.
    fn degree(&self, e: &Expr, lets: &[Option<u8>]) -> Option<u8> {
        match &e.kind {
            ExprKind::Num(_) => Some(0),
            ExprKind::Name(n) => match self.symbols.get(n).map(|s| s.0) {
                Some(Sym::State(_)) => Some(1),
                Some(Sym::Param(_) | Sym::Cov(_)) => Some(0),
                Some(Sym::Let(j)) => lets.get(j).copied().flatten(),
                _ => None,
            },
            ExprKind::Neg(a) => self.degree(a, lets),
            ExprKind::Binary(op, a, b) => {
                let (da, db) = (self.degree(a, lets)?, self.degree(b, lets)?);
                match op {
                    BinOp::Add | BinOp::Sub => Some(da.max(db)),
                    BinOp::Mul if da + db <= 1 => Some(da + db),
                    BinOp::Div if db == 0 => Some(da),
                    _ if da + db == 0 => Some(0),
                    _ => None,
                }
            }
            ExprKind::Call(_, args) => {
                for a in args {
                    if self.degree(a, lets)? != 0 {
                        return None;
                    }
                }
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn linear(body: &str) -> bool {
        let src = format!("model m\nparam k = 1\nparam v = 2\ncovariate WT = 70\n{body}");
        let stmts = parse(&src).unwrap();
        Decls::collect(&stmts).unwrap().ddts_are_linear()
    }

    #[test]
    fn compartmental_models_are_linear_and_others_are_not() {
        // two compartments, first-order transfer, a covariate in a coefficient
        let two = "let ke = k * WT / 70 / v\nstate A = 0\nstate B = 0\n\
                   ddt(A) = -ke * A - 0.3 * A + 0.1 * B + 2\nddt(B) = 0.3 * A - 0.1 * B\n";
        assert!(linear(two));
        // a dynamic let that stays affine
        assert!(linear(
            "state A = 0\nlet out = k * A / v\nddt(A) = -out + exp(k)\n"
        ));
        // not affine: a product of states, a state in a denominator or a function, time
        assert!(!linear("state A = 1\nddt(A) = -k * A * A\n"));
        assert!(!linear("state A = 1\nddt(A) = -k / A\n"));
        assert!(!linear("state A = 1\nddt(A) = -k * A / (v + A)\n"));
        assert!(!linear("state A = 1\nddt(A) = -exp(A)\n"));
        assert!(!linear("state A = 1\nddt(A) = -k * A * t\n"));
        assert!(!linear(
            "state A = 1\nlet r = if(t < 5, k, v)\nddt(A) = -r * A\n"
        ));
        assert!(!linear("state A = 1\nddt(A) = -k * max(A, 0)\n"));
    }
}
