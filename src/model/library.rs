//! The built-in model library: model files under `models/`, embedded in the binary so
//! that `cartkin --model NAME` works anywhere. Each file's header cites its source.

/// (name, model text) of every built-in model.
const BUILTIN: &[(&str, &str)] = &[("stein2019", include_str!("../../models/stein2019.model"))];

/// Names of the built-in models, in library order.
pub fn builtin_names() -> &'static [&'static str] {
    const NAMES: &[&str] = &["stein2019"];
    NAMES
}

/// The text of a built-in model.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
