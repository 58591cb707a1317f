//! `Method::Auto`: Dopri5 with stiffness detection handing over to Rodas4 and back, on
//! a problem stiff only part of the time (analytic solution), and bit-identity with
//! Dopri5 on a problem that never turns stiff.

use crate::common::solve as solve_common;

use cartkin::solve::{Method, OdeSystem, SolveError, SolveStats, Solver, SolverOptions};
use solve_common::{harmonic, FnSystem};

/// Stiffness of the test problem inside its windows.
const L: f64 = 1e6;

/// λ(t) = 1 + L sin²(πt/2) on the windows [2, 4] and [8, 10], 1 elsewhere (C¹: sin²
/// and its derivative vanish at the window ends).
fn lambda(t: f64) -> f64 {
    let inside = (2.0..=4.0).contains(&t) || (8.0..=10.0).contains(&t);
    if inside {
        1.0 + L * (std::f64::consts::FRAC_PI_2 * t).sin().powi(2)
    } else {
        1.0
    }
}

/// Λ(t) = ∫₀ᵗ λ: t plus L times the part of the windows before t, with
/// ∫ sin²(πu/2) du = u/2 − sin(πu)/(2π) (1 over a whole window).
fn big_lambda(t: f64) -> f64 {
    let part = |a: f64, b: f64| {
        let u = t.clamp(a, b);
        let g = |u: f64| u / 2.0 - (std::f64::consts::PI * u).sin() / (2.0 * std::f64::consts::PI);
        g(u) - g(a)
    };
    t + L * (part(2.0, 4.0) + part(8.0, 10.0))
}

/// y' = −λ(t)(y − sin t) + cos t, y(0) = 1: y(t) = sin t + exp(−Λ(t)) (substitute:
/// (y − sin t)' = −λ (y − sin t)). Stiff on the windows (|∂f/∂y| up to 1e6), non-stiff
/// on [0, 2], [4, 8] and after 10.
fn windows() -> FnSystem<impl FnMut(f64, &[f64], &mut [f64])> {
    FnSystem::new(1, |t, y: &[f64], dy: &mut [f64]| {
        dy[0] = -lambda(t) * (y[0] - t.sin()) + t.cos();
    })
}

fn exact(t: f64) -> f64 {
    t.sin() + (-big_lambda(t)).exp()
}

fn run<S: OdeSystem>(
    method: Method,
    sys: &mut S,
    y0: &[f64],
    t1: f64,
    outputs: &[f64],
) -> (Vec<Vec<f64>>, SolveStats) {
    let (got, stats, result) = try_run(method, sys, y0, t1, outputs);
    result.unwrap();
    (got, stats)
}

fn try_run<S: OdeSystem>(
    method: Method,
    sys: &mut S,
    y0: &[f64],
    t1: f64,
    outputs: &[f64],
) -> (Vec<Vec<f64>>, SolveStats, Result<(), SolveError>) {
    let options = SolverOptions {
        method,
        rtol: 1e-8,
        atol: 1e-10,
        ..SolverOptions::default()
    };
    let mut solver = Solver::new(y0.len(), options);
    let mut y = y0.to_vec();
    let mut got = vec![Vec::new(); outputs.len()];
    let result = solver.integrate(sys, 0.0, t1, &mut y, outputs, &mut |i, v| {
        got[i] = v.to_vec()
    });
    (got, *solver.stats(), result)
}

#[test]
fn auto_switches_on_a_problem_stiff_part_of_the_time_and_matches_the_analytic_solution() {
    let outputs: Vec<f64> = (0..=140).map(|i| i as f64 * 0.1).collect();
    let (got, auto) = run(Method::Auto, &mut windows(), &[1.0], 14.0, &outputs);
    for (t, v) in outputs.iter().zip(&got) {
        // rtol 1e-8, atol 1e-10 on a solution of size ≤ 1.2: a global error of 1e-6
        // leaves a factor ~100 for accumulation over 14 time units and dense output
        // (order 4 for Dopri5, 3 for Rodas4)
        assert!(
            (v[0] - exact(*t)).abs() < 1e-6,
            "t = {t}: {} against {}",
            v[0],
            exact(*t)
        );
    }
    // into Rodas4 in each window, back to Dopri5 after each: four switches
    assert_eq!(auto.switches, 4, "{auto:?}");
    // Dopri5 alone crawls at its stability limit through the windows (h·1e6 ≤ 3.3 over
    // 4 time units: about a million steps) and gives up at the step limit, as it did in
    // fits that wandered into stiff parameter regions; Auto also beats Rodas4 alone, by
    // running the smooth parts with Dopri5.
    let (_, dopri, result) = try_run(Method::Dopri5, &mut windows(), &[1.0], 14.0, &outputs);
    assert!(
        matches!(result, Err(SolveError::TooManySteps { .. })),
        "{result:?} {dopri:?}"
    );
    let (_, rodas) = run(Method::Rodas4, &mut windows(), &[1.0], 14.0, &outputs);
    assert!(auto.steps < rodas.steps, "auto {auto:?}\nrodas4 {rodas:?}");
    assert!(
        auto.jacobian_evals < rodas.jacobian_evals,
        "auto {auto:?}\nrodas4 {rodas:?}"
    );
    eprintln!("auto {auto:?}\nrodas4 {rodas:?}");
}

#[test]
fn auto_on_a_non_stiff_problem_is_dopri5_bit_for_bit() {
    let outputs: Vec<f64> = (0..=50).map(|i| i as f64 * 0.2).collect();
    let (auto, auto_stats) = run(Method::Auto, &mut harmonic(), &[1.0, 0.0], 10.0, &outputs);
    let (dopri, dopri_stats) = run(Method::Dopri5, &mut harmonic(), &[1.0, 0.0], 10.0, &outputs);
    assert_eq!(auto_stats.switches, 0);
    assert_eq!(auto_stats, dopri_stats);
    for (a, d) in auto.iter().zip(&dopri) {
        assert_eq!(a, d);
    }
}
