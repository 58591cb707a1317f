//! `saem_trace.csv`: one row per SAEM iteration — `iteration`, `phase`
//! (`exploration`/`smoothing`), `gamma`, each free parameter (natural scale) and each Ω
//! element (`omega2_P`, `omega2_P_Q`) after the iteration, the convergence indicator
//! `complete_neg2ll` (−2 ln p(y, φ; θ), averaged over the chains) and the acceptance
//! rates of the three kernels, for convergence plots.

use std::io::Write;

use super::driver::{Phase, SaemIteration};
use crate::estimate::population::objective::PopulationProblem;
use crate::model::Predict;

/// Write the trace of a SAEM run on `problem`.
pub fn write_saem_trace<M: Predict + ?Sized, W: Write>(
    out: W,
    problem: &PopulationProblem<'_, M>,
    trace: &[SaemIteration],
) -> std::io::Result<()> {
    let pop = &problem.pop;
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = vec!["iteration".into(), "phase".into(), "gamma".into()];
    header.extend(pop.map.free.iter().map(|&i| pop.names[i].clone()));
    header.extend(
        pop.omega_elements()
            .iter()
            .map(|&(k, l)| pop.omega_name(k, l)),
    );
    header.extend(
        [
            "complete_neg2ll",
            "acceptance_prior",
            "acceptance_multi",
            "acceptance_component",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(std::io::Error::other)?;
    let num = |v: f64| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
    for it in trace {
        let mut row = vec![
            it.iteration.to_string(),
            match it.phase {
                Phase::Exploration => "exploration",
                Phase::Smoothing => "smoothing",
            }
            .to_string(),
            it.gamma.to_string(),
        ];
        row.extend(it.values.iter().map(|&v| num(v)));
        row.push(num(it.complete_neg2ll));
        row.extend(it.acceptance.iter().map(|&v| num(v)));
        w.write_record(&row).map_err(std::io::Error::other)?;
    }
    w.flush()
}
