//! End-to-end checks of the `cartkin` program itself: help, version, usage errors.
//! Exit codes follow docs/outputs.md: 0 success, 1 usage or input error, never a panic (101).

use crate::common::cartkin;

#[test]
fn help_lists_the_commands_and_exits_0() {
    let out = cartkin(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["models", "check", "nca", "fit", "simulate"] {
        assert!(text.contains(command), "--help lacks {command}: {text}");
    }
}

#[test]
fn version_names_the_program() {
    let out = cartkin(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cartkin "));
}

#[test]
fn unknown_command_is_a_usage_error_with_exit_1() {
    let out = cartkin(&["fitt"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fitt"), "message names the bad command: {err}");
}

#[test]
fn missing_command_is_a_usage_error_with_exit_1() {
    let out = cartkin(&[]);
    assert_eq!(out.status.code(), Some(1));
}
