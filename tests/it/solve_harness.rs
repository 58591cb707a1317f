//! One harness, every reference problem, both methods: the solution at the reference
//! times must satisfy the weighted RMS norm
//!
//! ```text
//! sqrt( mean_i ( (y_i − ref_i) / (K·atol_i + K·rtol·|ref_i|) )² ) ≤ 1,   K = 30
//! ```
//!
//! i.e. the global error stays within 30× the local tolerance at rtol 1e-5, 1e-7 and
//! 1e-9 (global errors accumulate over the steps; when written, the largest norm was
//! 0.74 — Rodas4 on the stiff linear problem at rtol 1e-5, where y crosses zero — and
//! the others ≤ 0.04). The references are analytic or, for Robertson and van der Pol,
//! SciPy 1.17 Radau at rtol 1e-12 (see each entry).

use crate::common::solve as solve_common;

use cartkin::solve::{Method, Solver, SolverOptions};
use solve_common::FnSystem;

type Rhs = fn(f64, &[f64], &mut [f64]);

struct Problem {
    name: &'static str,
    rhs: Rhs,
    y0: &'static [f64],
    /// Absolute tolerance per unit of rtol (the scale below which a state is noise).
    atol_scale: f64,
    /// (time, reference state) pairs, sorted.
    reference: Vec<(f64, Vec<f64>)>,
    /// Too stiff for the explicit method.
    stiff: bool,
}

fn problems() -> Vec<Problem> {
    let grid = |t1: f64, n: usize| (1..=n).map(move |i| t1 * i as f64 / n as f64);
    vec![
        Problem {
            name: "decay y' = -0.7 y (analytic 3 e^{-0.7t})",
            rhs: |_, y, dy| dy[0] = -0.7 * y[0],
            y0: &[3.0],
            atol_scale: 1e-3,
            reference: grid(10.0, 20)
                .map(|t| (t, vec![3.0 * (-0.7 * t).exp()]))
                .collect(),
            stiff: false,
        },
        Problem {
            name: "logistic y' = 0.8 y (1 - y/100) (analytic 100/(1 + 99 e^{-0.8t}))",
            rhs: |_, y, dy| dy[0] = 0.8 * y[0] * (1.0 - y[0] / 100.0),
            y0: &[1.0],
            atol_scale: 1e-3,
            reference: grid(20.0, 40)
                .map(|t| (t, vec![100.0 / (1.0 + 99.0 * (-0.8 * t).exp())]))
                .collect(),
            stiff: false,
        },
        Problem {
            name: "linear 2-state, eigenvalues -1 and -3 (analytic)",
            rhs: |_, y, dy| {
                dy[0] = -2.0 * y[0] + y[1];
                dy[1] = y[0] - 2.0 * y[1];
            },
            y0: &[1.0, 0.0],
            atol_scale: 1e-3,
            reference: grid(5.0, 25)
                .map(|t| (t, solve_common::linear2_exact(t).to_vec()))
                .collect(),
            stiff: false,
        },
        Problem {
            name: "harmonic oscillator (analytic cos t, -sin t)",
            rhs: |_, y, dy| {
                dy[0] = y[1];
                dy[1] = -y[0];
            },
            y0: &[1.0, 0.0],
            atol_scale: 1.0,
            reference: grid(12.0, 40)
                .map(|t| (t, vec![t.cos(), -t.sin()]))
                .collect(),
            stiff: false,
        },
        Problem {
            name: "non-autonomous y' = cos t - (y - sin t) (analytic sin t + e^{-t})",
            rhs: |t, y, dy| dy[0] = t.cos() - (y[0] - t.sin()),
            y0: &[1.0],
            atol_scale: 1.0,
            reference: grid(10.0, 20)
                .map(|t| (t, vec![t.sin() + (-t).exp()]))
                .collect(),
            stiff: false,
        },
        Problem {
            name: "stiff linear y' = -1000 (y - cos t) (analytic)",
            // y = (1e6 cos t + 1e3 sin t)/(1e6 + 1) + C e^{-1000 t}, y(0) = 0 ⇒ C = -1e6/(1e6 + 1)
            rhs: |t, y, dy| dy[0] = -1000.0 * (y[0] - t.cos()),
            y0: &[0.0],
            atol_scale: 1e-3,
            reference: grid(3.0, 30)
                .map(|t| {
                    let d = 1e6 + 1.0;
                    let y = (1e6 * t.cos() + 1e3 * t.sin()) / d - 1e6 / d * (-1000.0 * t).exp();
                    (t, vec![y])
                })
                .collect(),
            stiff: true,
        },
        Problem {
            name: "Robertson (SciPy Radau rtol 1e-12)",
            rhs: solve_common::robertson_rhs,
            y0: &[1.0, 0.0, 0.0],
            atol_scale: 1e-6,
            reference: vec![
                (
                    0.4,
                    vec![
                        0.985_172_113_860_992_9,
                        3.386_395_378_974_966_5e-5,
                        1.479_402_218_521_797_9e-2,
                    ],
                ),
                (40.0, solve_common::ROBERTSON_40.to_vec()),
            ],
            stiff: true,
        },
        Problem {
            name: "van der Pol mu = 1000 (SciPy Radau rtol 1e-12)",
            rhs: solve_common::van_der_pol_rhs,
            y0: &[2.0, 0.0],
            atol_scale: 1e-3,
            reference: solve_common::VDP_REFERENCE
                .iter()
                .map(|(t, y)| (*t, y.to_vec()))
                .collect(),
            stiff: true,
        },
    ]
}

/// Weighted RMS error of every reference point.
fn run(problem: &Problem, method: Method, rtol: f64) -> Result<f64, String> {
    const K: f64 = 30.0;
    let atol = rtol * problem.atol_scale;
    let n = problem.y0.len();
    let times: Vec<f64> = problem.reference.iter().map(|r| r.0).collect();
    let t1 = *times.last().ok_or("no reference")?;
    let mut sys = FnSystem::new(n, problem.rhs);
    let mut solver = Solver::new(
        n,
        SolverOptions {
            method,
            rtol,
            atol,
            ..SolverOptions::default()
        },
    );
    let mut y = problem.y0.to_vec();
    let mut got = vec![vec![f64::NAN; n]; times.len()];
    solver
        .integrate(&mut sys, 0.0, t1, &mut y, &times, &mut |i, v| {
            got[i].copy_from_slice(v)
        })
        .map_err(|e| e.to_string())?;
    let mut sum = 0.0;
    let mut count = 0;
    for ((_, reference), v) in problem.reference.iter().zip(&got) {
        for (a, b) in v.iter().zip(reference) {
            let w = K * atol + K * rtol * b.abs();
            sum += ((a - b) / w).powi(2);
            count += 1;
        }
    }
    Ok((sum / count as f64).sqrt())
}

#[test]
fn every_problem_meets_its_reference_with_both_methods() {
    let mut failures = Vec::new();
    for problem in problems() {
        for method in [Method::Dopri5, Method::Rodas4] {
            if problem.stiff && method == Method::Dopri5 && problem.name.contains("Pol") {
                continue; // exhausts max_steps: tested in solve_rodas4.rs
            }
            for rtol in [1e-5, 1e-7, 1e-9] {
                match run(&problem, method, rtol) {
                    Ok(norm) if norm <= 1.0 => {}
                    Ok(norm) => failures.push(format!(
                        "{} / {method:?} / rtol {rtol:e}: weighted error {norm:.3}",
                        problem.name
                    )),
                    Err(e) => failures.push(format!(
                        "{} / {method:?} / rtol {rtol:e}: {e}",
                        problem.name
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
