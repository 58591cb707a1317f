//! singh2021 (ide-cel, Singh et al. CPT PSP 2021;10:362) is the library's
//! stiff model: CAR–BCMA binding (koff ≈ 206/day) and effector elimination from blood
//! (kel_e = 113/day) against growth rates of ~1/day over 365 days.
//!
//! - With the method the file asks for (`solver rodas4`) the solve completes and matches
//!   the independent reference (SciPy Radau rtol 1e-10, models/reference/singh2021.csv).
//! - Forced to the explicit Dopri5 at the same tolerances, the same solve is either
//!   refused with a step-limit error or needs vastly more work: pinned by the solver's
//!   step counts (never by wall-clock time). Dopri5's stability region bounds its step by
//!   ≈ 3.3/|λ| ≈ 3.3/206 day, so ≳ 2e4 steps over 365 days (measured 23,361), against
//!   ~1,000 for Rodas4 at the file's rtol 1e-6 (measured 979).

use crate::common::library as library_common;

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict, PredictError};
use cartkin::solve::{Method, SolveStats, SolverOptions};
use library_common::{load, read_reference, typical};

const DOSE: f64 = 450e6;

/// Predict all outputs at the reference times, returning the flat outputs and the stats.
fn solve(model: &Model) -> Result<(Vec<f64>, SolveStats), PredictError> {
    let reference = read_reference("singh2021");
    let nout = model.outputs().len();
    let doses = [Dose {
        time: 0.0,
        amount: DOSE,
        target: None,
        duration: None,
        line: 0,
    }];
    let covariates = Covariates::default();
    let individual = Individual {
        doses: &doses,
        covariates: &covariates,
    };
    let mut ts = Vec::new();
    let mut idx = Vec::new();
    for &t in &reference.times {
        for k in 0..nout {
            ts.push(t);
            idx.push(k);
        }
    }
    let mut out = vec![f64::NAN; ts.len()];
    let stats = model.predict_with_stats(&typical(model), &individual, &ts, &idx, &mut out)?;
    Ok((out, stats))
}

#[test]
fn singh2021_asks_for_rodas4() {
    let model = load("singh2021");
    assert_eq!(model.solver_options().method, Method::Rodas4);
    assert!(!model.is_closed_form());
}

#[test]
fn rodas4_completes_and_matches_reference() {
    let model = load("singh2021");
    let (out, stats) = solve(&model).unwrap_or_else(|e| panic!("rodas4 failed: {e}"));
    let reference = read_reference("singh2021");
    let nout = reference.outputs.len();
    // tolerances and their reason: see CASES in tests/library_reference.rs
    let (rtol, atol_frac) = (1e-4, 1e-9);
    for (k, col) in reference.values.iter().enumerate() {
        let peak = col.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        for (i, &r) in col.iter().enumerate() {
            let g = out[i * nout + k];
            assert!(
                (g - r).abs() <= atol_frac * peak + rtol * r.abs(),
                "{} at t = {}: cartkin {g:e}, reference {r:e}",
                reference.outputs[k],
                reference.times[i]
            );
        }
    }
    assert!(
        stats.accepted > 0 && stats.lu_decompositions > 0,
        "{stats:?}"
    );
    eprintln!("singh2021 rodas4 stats: {stats:?}");
}

#[test]
fn dopri5_is_refused_or_vastly_more_expensive() {
    let stiff = load("singh2021");
    let (_, rodas) = solve(&stiff).unwrap_or_else(|e| panic!("rodas4 failed: {e}"));

    let mut explicit = stiff.clone();
    let options = SolverOptions {
        method: Method::Dopri5,
        ..stiff.solver_options().clone()
    };
    explicit.set_solver_options(options.clone());
    match solve(&explicit) {
        Ok((_, dopri)) => {
            eprintln!("dopri5 stats: {dopri:?}; rodas4 stats: {rodas:?}");
            assert!(
                dopri.steps >= 10 * rodas.steps,
                "dopri5 took {} steps, rodas4 {}: not a stiff problem?",
                dopri.steps,
                rodas.steps
            );
            assert!(
                dopri.rhs_evals >= 5 * rodas.rhs_evals,
                "dopri5 {} RHS evaluations vs rodas4 {}",
                dopri.rhs_evals,
                rodas.rhs_evals
            );
        }
        Err(e) => assert_step_limit(&e),
    }

    // With a step budget ten times what Rodas4 needed, Dopri5 must give up with a clear
    // step-limit error, while Rodas4 still completes.
    let budget = 10 * rodas.steps;
    explicit.set_solver_options(SolverOptions {
        max_steps: budget,
        ..options
    });
    match solve(&explicit) {
        Ok((_, s)) => panic!("dopri5 finished within {budget} steps: {s:?}"),
        Err(e) => assert_step_limit(&e),
    }
    let mut limited = stiff.clone();
    limited.set_solver_options(SolverOptions {
        max_steps: budget,
        ..stiff.solver_options().clone()
    });
    solve(&limited).unwrap_or_else(|e| panic!("rodas4 with max_steps {budget} failed: {e}"));
}

fn assert_step_limit(e: &PredictError) {
    match e {
        PredictError::Solve { model, reason, .. } => {
            assert_eq!(model, "singh2021");
            assert!(
                reason.contains("steps"),
                "expected a step-limit error, got: {e}"
            );
        }
        other => panic!("expected a solve error, got: {other}"),
    }
}
