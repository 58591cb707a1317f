//! The expression language of model files, checked against Rust's own `f64` arithmetic.
//!
//! Every expression is evaluated three ways — folded at compile time (literals only),
//! by the per-individual program (a parameter `x`), and by the time-dependent program
//! (`x` replaced by `t`, where the fused instructions are used) — and each must equal the
//! same expression written in Rust, exactly (the fused instructions round like the
//! operations they replace; expected values are computed by Rust in the test).

use std::path::Path;

use cartkin::data::{CovariateValue, Covariates};
use cartkin::model::{Individual, Model, Predict};

fn model(body: &str) -> Model {
    let src = format!("model m\nparam s = 1 residual\n{body}\nerror y add(s)\n");
    match Model::parse(&src, Path::new("test.model")) {
        Ok(m) => m,
        Err(e) => panic!("{e}\n{src}"),
    }
}

fn eval_with(m: &Model, theta: &[f64], cov: &Covariates, t: f64) -> f64 {
    let ind = Individual {
        doses: &[],
        covariates: cov,
    };
    let mut out = [0.0];
    let mut th = theta.to_vec();
    th.insert(0, 1.0);
    m.predict(&th, &ind, &[t], &[0], &mut out).unwrap();
    out[0]
}

/// `expr` uses `X` and `Y`; check the three evaluation paths against `expected`.
fn check(expr: &str, x: f64, y: f64, expected: f64) {
    let lit = |v: f64| format!("({v:e})");
    let folded = model(&format!(
        "output y = {}",
        expr.replace('X', &lit(x)).replace('Y', &lit(y))
    ));
    let got = eval_with(&folded, &[], &Covariates::default(), 0.0);
    assert_eq!(
        got.to_bits(),
        expected.to_bits(),
        "folded {expr}: {got} vs {expected}"
    );
    let ind = model(&format!(
        "param x = 1 identity\nparam y = 1 identity\noutput y = {}",
        expr.replace('X', "x").replace('Y', "y")
    ));
    let got = eval_with(&ind, &[x, y], &Covariates::default(), 0.0);
    assert_eq!(
        got.to_bits(),
        expected.to_bits(),
        "individual {expr}: {got} vs {expected}"
    );
    let dynm = model(&format!(
        "param y = 1 identity\noutput y = {}",
        expr.replace('X', "t").replace('Y', "y")
    ));
    let got = eval_with(&dynm, &[y], &Covariates::default(), x);
    assert_eq!(
        got.to_bits(),
        expected.to_bits(),
        "dynamic {expr}: {got} vs {expected}"
    );
}

#[test]
fn arithmetic_operators() {
    let (x, y) = (1.37, -0.29);
    check("X + Y", x, y, x + y);
    check("X - Y", x, y, x - y);
    check("X * Y", x, y, x * y);
    check("X / Y", x, y, x / y);
    check("X ^ Y", x, y, x.powf(y));
    check("-X", x, y, -x);
    check("X - Y - X", x, y, x - y - x);
    check("X / Y / 3", x, y, x / y / 3.0);
}

#[test]
fn fused_shapes_round_like_the_plain_expression() {
    let (x, y) = (0.731, 2.9);
    check("X * Y + 3", x, y, x * y + 3.0);
    check("3 + X * Y", x, y, 3.0 + x * y);
    check("X * Y - 3", x, y, x * y - 3.0);
    check("3 - X * Y", x, y, 3.0 - x * y);
    check("X * Y * 7", x, y, x * y * 7.0);
    check("7 * (X * Y)", x, y, 7.0 * (x * y));
    check("X * Y + 3 * X", x, y, x * y + 3.0 * x);
    check("X * Y - 3 * X", x, y, x * y - 3.0 * x);
    check("(X + Y) * 3", x, y, (x + y) * 3.0);
    check("(X - Y) * X", x, y, (x - y) * x);
    check("X * (Y - 3)", x, y, x * (y - 3.0));
    check("X * Y / 3", x, y, x * y / 3.0);
    check("X / (Y + 3)", x, y, x / (y + 3.0));
    check("X / Y * 3", x, y, x / y * 3.0);
    check("X * Y / (Y + 3)", x, y, x * y / (y + 3.0));
    // chains of three or more terms become one sum instruction
    check(
        "X * Y - 3 * X - Y * X * 2 + X",
        x,
        y,
        x * y - 3.0 * x - y * x * 2.0 + x,
    );
    check("3 - X * (Y * 2) + Y", x, y, 3.0 - x * (y * 2.0) + y);
    check("X * Y * 2 - Y", x, y, x * y * 2.0 - y);
    // production from a mixture minus first-order loss: one instruction
    check(
        "Y * (X * Y + 2 * X) - 3 * X",
        x,
        y,
        y * (x * y + 2.0 * x) - 3.0 * x,
    );
    check(
        "(X * Y + 2 * X) * Y - 3 * X",
        x,
        y,
        (x * y + 2.0 * x) * y - 3.0 * x,
    );
}

#[test]
fn consecutive_quotients_and_maxima_pair_up_exactly() {
    let m = model(
        "param y = 1.3 identity
let p = t / y
let q = y / (t + 1)
let r = max(t, y)
let s2 = max(y, 2)
output y = p * q + r * s2 - p",
    );
    let (x, y) = (0.77f64, 1.3f64);
    let (p, q, r, s2) = (x / y, y / (x + 1.0), x.max(y), y.max(2.0));
    let expected = p * q + r * s2 - p;
    assert_eq!(
        eval_with(&m, &[y], &Covariates::default(), x).to_bits(),
        expected.to_bits()
    );
}

#[test]
fn functions() {
    let (x, y) = (2.3, 0.7);
    check("exp(X)", x, y, x.exp());
    check("log(X)", x, y, x.ln());
    check("log10(X)", x, y, x.log10());
    check("sqrt(X)", x, y, x.sqrt());
    check("pow(X, Y)", x, y, x.powf(y));
    check("abs(-X)", x, y, x.abs());
    check("min(X, Y)", x, y, y);
    check("max(X, Y)", x, y, x);
    check("if(X > Y, X, Y)", x, y, x);
    check("if(X < Y, X, Y)", x, y, y);
    check(
        "exp(-Y * X) * log(X + 1)",
        x,
        y,
        (-y * x).exp() * (x + 1.0).ln(),
    );
}

#[test]
fn comparisons_and_logic_give_one_or_zero() {
    for (x, y) in [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)] {
        let b = |c: bool| if c { 1.0 } else { 0.0 };
        check("X < Y", x, y, b(x < y));
        check("X <= Y", x, y, b(x <= y));
        check("X > Y", x, y, b(x > y));
        check("X >= Y", x, y, b(x >= y));
        check("X == Y", x, y, b(x == y));
        check("X != Y", x, y, b(x != y));
        check("X < Y && Y < 2", x, y, b(x < y && y < 2.0));
        check("X < Y || Y < 2", x, y, b(x < y || y < 2.0));
    }
}

#[test]
fn precedence() {
    // hand-computed: -x^2 = -(x^2); ^ is right-associative: 2^3^2 = 2^9 = 512
    check("-X^2", 3.0, 0.0, -9.0);
    check("2^3^2", 0.0, 0.0, 512.0);
    check("X^3^2", 2.0, 0.0, 512.0);
    check("2^-X", 1.0, 0.0, 0.5);
    check("1 + 2 * 3 - 4 / 2", 0.0, 0.0, 5.0);
    check("(1 + 2) * 3", 0.0, 0.0, 9.0);
    check("1 < 2 == 1", 0.0, 0.0, 1.0);
    check("0 || 1 && 0", 0.0, 0.0, 0.0);
}

#[test]
fn lets_in_order_and_mixing_time_and_parameters() {
    let m =
        model("param k = 0.5\nlet a = 2 * k\nlet b = a * 3\nlet c = b * t + a\noutput y = c * c");
    // k = 0.5: a = 1, b = 3, c(2) = 7, y = 49
    assert_eq!(eval_with(&m, &[0.5], &Covariates::default(), 2.0), 49.0);
    assert_eq!(eval_with(&m, &[1.0], &Covariates::default(), 2.0), 196.0);
}

#[test]
fn statements_continue_over_lines() {
    let m = model("let a = (1 +\n  2)\nlet b = a *\n  4\noutput y = b\n  unit \"u\"");
    assert_eq!(eval_with(&m, &[], &Covariates::default(), 0.0), 12.0);
}

#[test]
fn covariate_default_and_override() {
    let m = model("covariate wt = 70 unit \"kg\"\nparam cl = 2\noutput y = cl * (wt / 70)^0.75");
    let none = Covariates::default();
    assert_eq!(eval_with(&m, &[2.0], &none, 0.0), 2.0);
    let mut cov = Covariates::default();
    cov.constant
        .insert("WT".into(), CovariateValue::Numeric(35.0));
    let expected = 2.0 * (35.0f64 / 70.0).powf(0.75);
    assert_eq!(eval_with(&m, &[2.0], &cov, 0.0), expected);
}

#[test]
fn stein_closed_form_matches_the_formula() {
    let m = Model::load("stein2019").unwrap();
    assert!(m.is_closed_form());
    assert_eq!(m.origin(), "built-in stein2019");
    let theta = m.typical();
    let names: Vec<&str> = m.parameters().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["foldx", "tmax", "cmax", "alpha", "fb", "beta", "sigma"]
    );
    let (foldx, tmax, cmax, alpha, fb, beta) = (3900.0f64, 9.3, 24000.0, 0.16, 0.0079, 0.0032);
    // Stein 2019 eqs. (1)-(2), written out here
    let f = |t: f64| {
        if t < tmax {
            cmax / foldx * (foldx.ln() / tmax * t).exp()
        } else {
            (1.0 - fb) * cmax * (-alpha * (t - tmax)).exp() + fb * cmax * (-beta * (t - tmax)).exp()
        }
    };
    let times = [0.0, 1.0, 9.299999, 9.3, 9.300001, 28.0, 90.0, 365.0];
    let mut out = [0.0; 8];
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    m.predict(&theta, &ind, &times, &[0; 8], &mut out).unwrap();
    for (t, v) in times.iter().zip(out) {
        approx::assert_relative_eq!(v, f(*t), max_relative = 1e-15);
    }
    // continuity at tmax: the two branches agree there to rounding
    approx::assert_relative_eq!(out[2], out[3], max_relative = 1e-5);
    // at t = tmax the right-hand branch: (1 - fb)·cmax + fb·cmax = cmax to rounding
    approx::assert_relative_eq!(out[3], cmax, max_relative = 1e-15);
}

#[test]
fn model_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync>() {}
    check::<Model>();
}

#[test]
fn cd19_right_hand_side_stays_compact() {
    // Pinned so that a regression in hoisting or instruction selection shows: the 10
    // derivatives and 6 dynamic lets of cd19_bcell compile to 15 instructions (guard
    // maxima paired, antigen load and B-cell balances as sums, Ig turnover fused).
    let m = Model::load("cd19_bcell").unwrap();
    let listing = m.rhs_listing();
    assert!(listing.len() <= 15, "{}", listing.join("\n"));
}
