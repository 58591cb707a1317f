//! `cartkin models [NAME|PATH]`: list the built-in models with their one-line
//! descriptions, or show one model (built-in or file) in detail — parameters with
//! typical value, unit, bounds, transform and ω², outputs with their error models,
//! states, and references.

use cartkin::model::{builtin_names, ErrorModel, Model, Parameter, Predict, Transform};

use super::CliError;

/// Arguments of `cartkin models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// A built-in model name or a model file to describe (default: list the library).
    pub model: Option<String>,
}

/// Run `cartkin models`.
pub fn run(args: ModelsArgs) -> Result<(), CliError> {
    match args.model {
        None => {
            let width = builtin_names().iter().map(|n| n.len()).max().unwrap_or(0);
            for name in builtin_names() {
                let m = Model::load(name).map_err(|e| CliError::Input(e.to_string()))?;
                println!("{name:width$}  {}", m.description());
            }
            Ok(())
        }
        Some(name) => {
            let m = Model::load(&name).map_err(|e| CliError::Input(e.to_string()))?;
            print!("{}", describe(&m));
            Ok(())
        }
    }
}

/// A readable description of one model.
fn describe(m: &Model) -> String {
    let mut s = format!("{} ({})\n{}\n", m.name(), m.origin(), m.description());
    for r in m.references() {
        s += &format!("reference: {r}\n");
    }
    if m.is_closed_form() {
        s += "closed form (no ODE states)\n";
    } else {
        s += &format!("states: {}\n", m.states().join(", "));
    }
    s += "\nparameter        typical  unit          bounds                 scale     omega2\n";
    for p in m.parameters() {
        s += &parameter_line(p);
    }
    s += "\noutputs:\n";
    let pname = |i: usize| m.parameters()[i].name.clone();
    for o in m.outputs() {
        let err = match o.error {
            ErrorModel::Additive { a } => format!("add({})", pname(a)),
            ErrorModel::Proportional { b } => format!("prop({})", pname(b)),
            ErrorModel::Combined { a, b } => format!("combined({}, {})", pname(a), pname(b)),
            ErrorModel::LogAdditive { a } => format!("logadd({})", pname(a)),
        };
        let lloq = o.lloq.map(|l| format!(", lloq {l}")).unwrap_or_default();
        s += &format!("  {} [{}] error {err}{lloq}\n", o.analyte, o.unit);
    }
    s
}

fn parameter_line(p: &Parameter) -> String {
    let scale = match p.transform {
        Transform::Log => "log",
        Transform::Logit => "logit",
        Transform::Identity => "identity",
    };
    let omega = match (p.omega2, p.fixed) {
        (_, true) => "fixed".to_string(),
        (Some(w), _) => format!("{w}"),
        (None, _) => "-".to_string(),
    };
    let residual = if p.role == cartkin::model::Role::Residual {
        "  (residual)"
    } else {
        ""
    };
    format!(
        "{:<15} {:>8}  {:<13} {:<22} {:<9} {omega}{residual}\n",
        p.name,
        format!("{}", p.typical),
        p.unit,
        format!("[{}, {}]", p.lower, p.upper),
        scale
    )
}
