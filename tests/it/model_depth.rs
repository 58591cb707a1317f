//! Deeply nested and very long expressions: the depth limit of the model parser.
//!
//! Every pass over an expression recurses once per level of its tree, so an input like
//! 100,000 nested parentheses used to overflow the stack and abort (exit 134). The parser
//! now refuses trees deeper than 256 levels with a located error. Each case runs the real
//! binary (`cartkin models FILE`) in a subprocess, since a stack overflow aborts the
//! process rather than panicking; the positions are counted by hand in each test.

use std::path::Path;

use cartkin::data::Covariates;
use cartkin::model::{Individual, Model, Predict};

use crate::common::cartkin_in;

/// The limit, as documented in docs and the parser.
const MAX_DEPTH: usize = 256;

/// A model whose line 3 is `let a = EXPR` (so `EXPR` starts at column 9), used by the
/// output.
fn model_with(expr: &str) -> String {
    format!(
        "model deep\nparam k = 0.5\nlet a = {expr}\noutput y = a * t\n\
         param s = 0.1 residual\nerror y add(s)\n"
    )
}

/// Run `cartkin models deep.model` on `text`; return the exit code and stderr.
fn run_models(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.model"), text).unwrap();
    let out = cartkin_in(dir.path(), &["models", "deep.model"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The binary exits 1 and the message names `deep.model:LINE:COLUMN` and the limit.
fn assert_too_deep(text: &str, line: usize, column: usize) {
    let (code, err) = run_models(text);
    assert_eq!(
        code,
        Some(1),
        "exit code (stderr: {})",
        &err[..err.len().min(500)]
    );
    let place =
        format!("deep.model:{line}:{column}: expression nested deeper than {MAX_DEPTH} levels");
    assert!(
        err.contains(&place),
        "`{place}` missing from: {}",
        &err[..err.len().min(500)]
    );
}

#[test]
fn hundred_thousand_parentheses() {
    // `let a = ` is 8 characters, so the j-th `(` is at column 8 + j. The statement's
    // expression is level 1 and the j-th parenthesis opens level j + 1: the 256th is
    // the first beyond the limit.
    let n = 100_000;
    let text = model_with(&format!("{}k{}", "(".repeat(n), ")".repeat(n)));
    assert_too_deep(&text, 3, 8 + MAX_DEPTH);
}

#[test]
fn hundred_thousand_minus_signs() {
    // The j-th `-` is at column 8 + j and opens level j + 1.
    let text = model_with(&format!("{}k", "-".repeat(100_000)));
    assert_too_deep(&text, 3, 8 + MAX_DEPTH);
}

#[test]
fn hundred_thousand_nested_ifs() {
    // `if(k > 0, ` is 10 characters: the j-th `if` starts at column 9 + 10 (j − 1) and
    // its arguments are level j + 1.
    let n = 100_000;
    let text = model_with(&format!("{}1{}", "if(k > 0, ".repeat(n), ", 0)".repeat(n)));
    assert_too_deep(&text, 3, 9 + 10 * (MAX_DEPTH - 1));
}

#[test]
fn hundred_thousand_powers() {
    // `k^` is 2 characters: the j-th `^` is at column 8 + 2j and its exponent is level
    // j + 1.
    let text = model_with(&format!("{}k", "k^".repeat(100_000)));
    assert_too_deep(&text, 3, 8 + 2 * MAX_DEPTH);
}

#[test]
fn flat_chain_of_hundred_thousand_terms() {
    // `k + k + k ...` is a left-leaning tree, one level per `+`: with `k+` 2 characters
    // the j-th `+` is at column 8 + 2j, and the 256th makes the tree 257 levels deep.
    let text = model_with(&format!("{}k", "k+".repeat(100_000)));
    assert_too_deep(&text, 3, 8 + 2 * MAX_DEPTH);
    // the same over many lines (a line ending in an operator continues the statement)
    let text = model_with(&format!("{}k", "k *\n".repeat(100_000)));
    assert_too_deep(&text, 3 + MAX_DEPTH - 1, 3);
}

#[test]
fn hundred_thousand_blank_lines_inside_parentheses() {
    // Not deep: one pair of parentheses around 100,000 blank lines. The lexer looks
    // ahead past blank lines once per line; this must stay linear (it was quadratic)
    // and the model must load.
    let text = model_with(&format!("(k{})", "\n".repeat(100_000)));
    let (code, err) = run_models(&text);
    assert_eq!(code, Some(0), "{err}");
}

/// Evaluate output `y = a * t` at t = 1 for the model text (k = 0.5).
fn value_at_one(text: &str) -> f64 {
    let m = Model::parse(text, Path::new("deep.model")).unwrap_or_else(|e| panic!("{e}"));
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    let mut out = [0.0];
    m.predict(&[0.5, 0.1], &ind, &[1.0], &[0], &mut out)
        .unwrap();
    out[0]
}

#[test]
fn deepest_accepted_expressions_compute_in_a_small_stack() {
    // At the limit every pass (parse, checks, lowering, instruction selection, native
    // code) must fit well inside the 2 MiB of a test or worker thread: run them on a
    // 1 MiB stack. Expected values by hand, with k = 0.5 (all exact in binary):
    // - 255 nested parentheses around k: 0.5;
    // - 256 terms k + k + ... + k (255 `+`, depth 256): 128;
    // - 255 minus signs before k (odd): −0.5;
    // - 254 nested `if(k > 0, ·, 0)` around 1: 1 (the innermost call is 3 levels deep,
    //   `k > 0` being 2, and each call around it adds one: 256).
    let cases: Vec<(String, f64)> = vec![
        (format!("{}k{}", "(".repeat(255), ")".repeat(255)), 0.5),
        (format!("{}k", "k+".repeat(255)), 128.0),
        (format!("{}k", "-".repeat(255)), -0.5),
        (
            format!("{}1{}", "if(k > 0, ".repeat(254), ", 0)".repeat(254)),
            1.0,
        ),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            cases
                .iter()
                .map(|(expr, want)| (value_at_one(&model_with(expr)), *want))
                .collect::<Vec<_>>()
        })
        .unwrap();
    for (got, want) in worker.join().expect("no stack overflow") {
        assert_eq!(got, want);
    }
    // one level more is refused (the library error, same as the binary's)
    let err = Model::parse(
        &model_with(&format!("{}k", "k+".repeat(256))),
        Path::new("deep.model"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("deep.model:3:520: expression nested deeper than 256 levels"),
        "{err}"
    );
}
