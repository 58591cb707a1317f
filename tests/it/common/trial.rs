//! Trial helpers: a plan with fixed DLT probabilities (no model simulation is needed
//! for the DLTs), and small scenario files on the one-compartment PK model, whose
//! exposure is proportional to the dose (Cmax = D/V at t = 0).

use cartkin::model::Model;
use cartkin::simulate::{DoseLevel, SimulationDesign};
use cartkin::trial::{Rule, Toxicity, TrialSettings};

/// The one-compartment IV model (a few parameters, fast, exposure ∝ dose).
pub fn pk_model() -> Model {
    Model::load("pk_1cmt_iv").expect("built-in pk_1cmt_iv")
}

/// A design with one subject per level at `doses` (what a trial's plan is built from).
pub fn level_design(doses: &[f64], seed: u64) -> SimulationDesign {
    SimulationDesign {
        doses: doses.iter().map(|&dose| DoseLevel { dose, n: 1 }).collect(),
        times: vec![0.0, 1.0, 7.0, 28.0],
        seed,
        ..SimulationDesign::default()
    }
}

/// Settings of `rule` from level 1 with a 28-day window and `toxicity`.
pub fn settings(rule: Rule, toxicity: Toxicity) -> TrialSettings {
    TrialSettings {
        rule,
        start: 0,
        dlt_window_days: 28,
        toxicity,
    }
}

/// A scenario file on pk_1cmt_iv with dose levels 100, 300, 900 and the given
/// `[design]` and `[toxicity]` sections (TOML text).
pub fn pk_scenario(design: &str, toxicity: &str) -> String {
    format!(
        r#"name = "pk_trial"
model = "pk_1cmt_iv"
follow_up_days = 28
schedule = [0, 1, 2, 7, 14, 28]
seed = 11
dose_levels = [100, 300, 900]

[product]
name = "test product"
targets = ["CD19"]

[analytes]
conc = {{}}

[design]
{design}

[toxicity]
{toxicity}
"#
    )
}
