//! The built-in model library: model files under `models/`, embedded in the binary so
//! that `cartkin --model NAME` works anywhere. Each file's header cites its source.

/// (name, model text) of every built-in model.
const BUILTIN: &[(&str, &str)] = &[
    ("stein2019", include_str!("../../models/stein2019.model")),
    (
        "stein2019_ode",
        include_str!("../../models/stein2019_ode.model"),
    ),
    (
        "lisocel2021",
        include_str!("../../models/lisocel2021.model"),
    ),
    ("cd19_bcell", include_str!("../../models/cd19_bcell.model")),
    (
        "cd19_cd20_bcell",
        include_str!("../../models/cd19_cd20_bcell.model"),
    ),
    ("singh2021", include_str!("../../models/singh2021.model")),
    ("pk_1cmt_iv", include_str!("../../models/pk_1cmt_iv.model")),
    (
        "pk_1cmt_oral",
        include_str!("../../models/pk_1cmt_oral.model"),
    ),
];

/// Names of the built-in models, in library order.
pub fn builtin_names() -> &'static [&'static str] {
    const NAMES: &[&str] = &[
        "stein2019",
        "stein2019_ode",
        "lisocel2021",
        "cd19_bcell",
        "cd19_cd20_bcell",
        "singh2021",
        "pk_1cmt_iv",
        "pk_1cmt_oral",
    ];
    NAMES
}

/// The text of a built-in model.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
