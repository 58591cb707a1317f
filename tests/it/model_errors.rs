//! Malformed model files: each error names `file:line:column` and says what was
//! expected (positions counted by hand from the text in each test).

use std::path::Path;

use cartkin::model::{Model, ModelError};

const HEAD: &str = "model m\nparam k = 0.5\nparam s = 0.1 residual\n";

/// Parse `body` (after a 3-line header, so the body starts on line 4) and return the
/// error message.
fn error_of(body: &str) -> String {
    let src = format!("{HEAD}{body}");
    match Model::parse(&src, Path::new("bad.model")) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => {
            assert!(matches!(e, ModelError::Invalid { .. }));
            e.to_string()
        }
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing from: {msg}");
    }
}

const TAIL: &str = "output y = k * t\nerror y add(s)\n";

#[test]
fn unknown_name_with_suggestion() {
    let msg = error_of("output y = kk * t\nerror y add(s)\n");
    assert_has(
        &msg,
        &[
            "bad.model:4:12:",
            "unknown name `kk`",
            "did you mean `k`?",
            "expected a parameter",
        ],
    );
}

#[test]
fn unknown_statement_with_suggestion() {
    let msg = error_of(&format!("parm x = 1\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:1:",
            "unknown statement `parm`",
            "did you mean `param`?",
            "expected one of",
        ],
    );
}

#[test]
fn duplicate_name() {
    let msg = error_of(&format!("let k = 2\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:5:",
            "duplicate name `k`",
            "line 2",
            "expected a new name",
        ],
    );
}

#[test]
fn state_without_ddt() {
    let msg = error_of(&format!("state X = 1\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:7:",
            "state `X` has no derivative",
            "expected a `ddt(X) = ...`",
        ],
    );
}

#[test]
fn ddt_without_state() {
    let msg = error_of(&format!("state X = 1\nddt(X) = -k * X\nddt(Z) = 1\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:6:5:",
            "`ddt(Z)` is not the derivative of a declared state",
            "expected `state Z",
        ],
    );
}

#[test]
fn error_for_unknown_output() {
    let msg = error_of("output y = k * t\nerror yy add(s)\nerror y add(s)\n");
    assert_has(
        &msg,
        &[
            "bad.model:5:7:",
            "`error yy` names no output",
            "did you mean `y`?",
            "expected the analyte",
        ],
    );
}

#[test]
fn residual_parameter_used_as_structural() {
    let msg = error_of("output y = s * t\nerror y add(s)\n");
    assert_has(
        &msg,
        &[
            "bad.model:4:12:",
            "`s` is a residual parameter",
            "expected a structural parameter",
        ],
    );
}

#[test]
fn structural_parameter_in_error_model() {
    let msg = error_of("output y = k * t\nerror y prop(k)\n");
    assert_has(
        &msg,
        &[
            "bad.model:5:14:",
            "`k` is a structural parameter",
            "expected a parameter declared with `residual`",
        ],
    );
}

#[test]
fn forward_reference_in_lets() {
    let msg = error_of(&format!("let a = b + 1\nlet b = k\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:9:",
            "`b` is used before its definition on line 5",
            "expected it to be defined above",
        ],
    );
}

#[test]
fn let_referring_to_itself() {
    let msg = error_of(&format!("let a = a + 1\n{TAIL}"));
    assert_has(&msg, &["bad.model:4:9:", "refers to itself", "expected"]);
}

#[test]
fn bad_number() {
    let msg = error_of(&format!("let a = 1.2.3 * k\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:9:",
            "bad number `1.2.3`",
            "expected a finite number",
        ],
    );
}

#[test]
fn bad_exponent() {
    let msg = error_of(&format!("let a = 2e * k\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:9:",
            "bad number `2e`",
            "expected a finite number",
        ],
    );
}

#[test]
fn unclosed_parenthesis() {
    let msg = error_of(&format!("let a = (k + 1\n{TAIL}"));
    assert_has(
        &msg,
        &["bad.model:4:9:", "unclosed `(`", "expected a matching `)`"],
    );
}

#[test]
fn unbalanced_closing_parenthesis() {
    let msg = error_of(&format!("let a = k + 1)\n{TAIL}"));
    assert_has(&msg, &["bad.model:4:14:", "unbalanced `)`"]);
}

#[test]
fn wrong_function_arity() {
    let msg = error_of(&format!("let a = pow(k)\n{TAIL}"));
    assert_has(
        &msg,
        &["bad.model:4:9:", "`pow` takes 2 arguments, found 1"],
    );
    let msg = error_of(&format!("let a = if(k > 1, 2)\n{TAIL}"));
    assert_has(&msg, &["bad.model:4:9:", "`if` takes 3 arguments, found 2"]);
}

#[test]
fn unknown_function_with_suggestion() {
    let msg = error_of(&format!("let a = expp(k)\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:9:",
            "unknown function `expp`",
            "did you mean `exp`?",
        ],
    );
}

#[test]
fn missing_operand() {
    let msg = error_of(&format!("let a = k * \n\nlet b = 1\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:6:1:",
            "expected a number, a name, `-` or `(`",
            "found `let`",
        ],
    );
}

#[test]
fn output_without_error_model() {
    let msg = error_of("output y = k * t\n");
    assert_has(
        &msg,
        &[
            "bad.model:4:8:",
            "output `y` has no residual error model",
            "expected a line `error y",
        ],
    );
}

#[test]
fn initial_state_depending_on_time() {
    let msg = error_of(&format!("state X = t\nddt(X) = 0\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:11:",
            "the initial value of `X` must not depend on `t`",
            "expected an expression of parameters",
        ],
    );
}

#[test]
fn parameter_outside_its_bounds() {
    let msg = error_of(&format!("param f = 2 bounds 0 1 logit\n{TAIL}"));
    assert_has(
        &msg,
        &["bad.model:4:7:", "parameter `f`", "outside its bounds"],
    );
}

#[test]
fn unterminated_string_and_bad_option() {
    let msg = error_of(&format!("param f = 2 unit \"day\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:18:",
            "unterminated string",
            "expected a closing",
        ],
    );
    let msg = error_of(&format!("param f = 2 iv 0.1\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:4:13:",
            "expected a parameter option",
            "found `iv`",
        ],
    );
}

#[test]
fn dose_into_a_non_state_and_unknown_solver() {
    let msg = error_of(&format!("state X = 0\nddt(X) = -k * X\ndose x\n{TAIL}"));
    assert_has(
        &msg,
        &[
            "bad.model:6:6:",
            "`x` is not an ODE state",
            "did you mean `X`?",
        ],
    );
    let msg = error_of(&format!("solver rk4\n{TAIL}"));
    assert_has(
        &msg,
        &["bad.model:4:8:", "unknown solver `rk4`", "expected `auto`"],
    );
}

#[test]
fn reserved_word_as_name() {
    let msg = error_of(&format!("let exp = 2\n{TAIL}"));
    assert_has(&msg, &["bad.model:4:5:", "`exp` is a reserved word"]);
}

#[test]
fn missing_file_and_unknown_builtin() {
    let e = Model::load("stein2091").unwrap_err().to_string();
    assert_has(
        &e,
        &[
            "`stein2091` is neither a built-in model",
            "did you mean `stein2019`?",
        ],
    );
    let e = Model::from_file(Path::new("/nonexistent/x.model"))
        .unwrap_err()
        .to_string();
    assert_has(&e, &["cannot read model file `/nonexistent/x.model`"]);
}
