//! RODAS4 against analytic solutions and the stiff reference problems (Robertson,
//! van der Pol μ = 1000); exact versus finite-difference Jacobian.

use crate::common::solve as solve_common;

use approx::assert_relative_eq;
use cartkin::solve::{Method, SolveError, Solver, SolverOptions};
use solve_common::{
    harmonic, linear2, linear2_exact, options, solve, Decay, FnSystem, ROBERTSON_40,
};

/// Robertson's chemical kinetics (HW 1996 §IV.1, eq. 1.3):
/// y1' = −0.04 y1 + 1e4 y2 y3, y2' = 0.04 y1 − 1e4 y2 y3 − 3e7 y2², y3' = 3e7 y2².
fn robertson() -> FnSystem<impl FnMut(f64, &[f64], &mut [f64])> {
    FnSystem::new(3, |_, y: &[f64], dy: &mut [f64]| {
        dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
        dy[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
        dy[2] = 3e7 * y[1] * y[1];
    })
}

fn robertson_jacobian(_t: f64, y: &[f64], j: &mut [f64]) {
    j.copy_from_slice(&[
        -0.04,
        1e4 * y[2],
        1e4 * y[1],
        0.04,
        -1e4 * y[2] - 6e7 * y[1],
        -1e4 * y[1],
        0.0,
        6e7 * y[1],
        0.0,
    ]);
}

/// Van der Pol with μ = 1000: y1' = y2, y2' = μ (1 − y1²) y2 − y1 (HW 1996 §IV.1, unscaled).
fn van_der_pol() -> FnSystem<impl FnMut(f64, &[f64], &mut [f64])> {
    FnSystem::new(2, |_, y: &[f64], dy: &mut [f64]| {
        dy[0] = y[1];
        dy[1] = 1000.0 * (1.0 - y[0] * y[0]) * y[1] - y[0];
    })
}

#[test]
fn exponential_decay_matches_analytic() {
    let mut sys = Decay { k: 0.5 };
    let mut solver = Solver::new(1, options(Method::Rodas4, 1e-10, 1e-14));
    let outputs: Vec<f64> = (0..=20).map(|i| i as f64 * 0.5).collect();
    let (y, got, result) = solve(&mut solver, &mut sys, 0.0, 10.0, &[2.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        // y = 2 exp(-t/2) (analytic); order 4 at rtol 1e-10: 1e-8 relative is ample, and
        // the dense output (order 3) at the in-step outputs is within it too.
        assert_relative_eq!(v[0], 2.0 * (-0.5 * t).exp(), max_relative = 1e-8);
    }
    assert_relative_eq!(y[0], 2.0 * (-5.0f64).exp(), max_relative = 1e-9);
}

#[test]
fn linear_two_state_system_matches_analytic() {
    let mut sys = linear2();
    let mut solver = Solver::new(2, options(Method::Rodas4, 1e-10, 1e-14));
    let outputs: Vec<f64> = (0..=40).map(|i| i as f64 * 0.1).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 4.0, &[1.0, 0.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        let exact = linear2_exact(*t);
        assert_relative_eq!(v[0], exact[0], max_relative = 1e-8, epsilon = 1e-12);
        assert_relative_eq!(v[1], exact[1], max_relative = 1e-8, epsilon = 1e-12);
    }
}

#[test]
fn harmonic_oscillator_tracks_cos_and_sin() {
    let mut sys = harmonic();
    let mut solver = Solver::new(2, options(Method::Rodas4, 1e-10, 1e-12));
    let outputs: Vec<f64> = (0..=60).map(|i| i as f64 * 0.3).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 18.0, &[1.0, 0.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        assert!(
            (v[0] - t.cos()).abs() < 1e-7,
            "t={t}: {} vs {}",
            v[0],
            t.cos()
        );
        assert!(
            (v[1] + t.sin()).abs() < 1e-7,
            "t={t}: {} vs {}",
            v[1],
            -t.sin()
        );
    }
}

#[test]
fn non_autonomous_problem_uses_the_time_derivative() {
    // y' = cos(t) − (y − sin t): y = sin t + e^{-t} from y(0) = 1 (analytic). A wrong
    // ∂f/∂t term would cost the method its order and this accuracy.
    let mut sys = FnSystem::new(1, |t, y: &[f64], dy: &mut [f64]| {
        dy[0] = t.cos() - (y[0] - t.sin());
    });
    let mut solver = Solver::new(1, options(Method::Rodas4, 1e-9, 1e-12));
    let outputs: Vec<f64> = (0..=10).map(|i| i as f64).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 10.0, &[1.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        let exact = t.sin() + (-t).exp();
        assert!((v[0] - exact).abs() < 1e-7, "t={t}: {} vs {exact}", v[0]);
    }
}

#[test]
fn outputs_at_t0_t1_and_dense_inside_steps() {
    let mut sys = Decay { k: 0.1 };
    let mut solver = Solver::new(1, options(Method::Rodas4, 1e-6, 1e-9));
    let outputs: Vec<f64> = (0..=1000).map(|i| i as f64 * 1e-3).collect();
    let (y, got, result) = solve(&mut solver, &mut sys, 0.0, 1.0, &[1.0], &outputs);
    result.unwrap();
    assert_eq!(got[0], vec![1.0]);
    assert_eq!(got[1000], y);
    assert!(solver.stats().accepted < 20, "{:?}", solver.stats());
    let worst = outputs
        .iter()
        .zip(&got)
        .map(|(t, v)| (v[0] - (-0.1 * t).exp()).abs())
        .fold(0.0, f64::max);
    // the 3rd-order dense output is accurate to the tolerance (1e-6 on y ≈ 1)
    assert!(
        worst < 1e-6 && worst > 0.0,
        "worst dense-output error {worst:e}"
    );
}

#[test]
fn robertson_matches_the_reference_at_t40() {
    let mut sys = robertson();
    let mut solver = Solver::new(3, options(Method::Rodas4, 1e-8, 1e-14));
    let (y, got, result) = solve(
        &mut solver,
        &mut sys,
        0.0,
        40.0,
        &[1.0, 0.0, 0.0],
        &[0.4, 40.0],
    );
    result.unwrap();
    // rtol 1e-8 per step; the global error stays below 1e-6 relative on every component
    for (a, b) in y.iter().zip(ROBERTSON_40) {
        assert_relative_eq!(*a, b, max_relative = 1e-6);
    }
    assert_eq!(got[1], y);
    // mass conservation y1 + y2 + y3 = 1 (linear invariant, kept by Rosenbrock methods
    // up to rounding and the finite-difference Jacobian's error)
    assert_relative_eq!(y.iter().sum::<f64>(), 1.0, max_relative = 1e-9);
    // t = 0.4 from the same SciPy Radau run at rtol 1e-12: y1 = 0.9851721138...
    assert_relative_eq!(got[0][0], 0.985_172_114, max_relative = 1e-6);
    let s = *solver.stats();
    // SciPy Radau (order 5) needs 296 steps at rtol 1e-8; RODAS4 (order 4) somewhat more
    assert!(s.accepted < 600, "{s:?}");
}

#[test]
fn robertson_exact_jacobian_agrees_with_finite_differences() {
    let mut fd = robertson();
    let mut exact = robertson();
    exact.jac = Some(robertson_jacobian);
    let opts = options(Method::Rodas4, 1e-8, 1e-14);
    let mut solver = Solver::new(3, opts.clone());
    let (y_fd, _, r1) = solve(&mut solver, &mut fd, 0.0, 40.0, &[1.0, 0.0, 0.0], &[]);
    let stats_fd = *solver.stats();
    let mut solver = Solver::new(3, opts);
    let (y_ex, _, r2) = solve(&mut solver, &mut exact, 0.0, 40.0, &[1.0, 0.0, 0.0], &[]);
    let stats_ex = *solver.stats();
    r1.unwrap();
    r2.unwrap();
    for ((a, b), r) in y_fd.iter().zip(&y_ex).zip(ROBERTSON_40) {
        assert_relative_eq!(*a, *b, max_relative = 1e-7);
        assert_relative_eq!(*b, r, max_relative = 1e-6);
    }
    // the exact Jacobian saves the n = 3 difference evaluations per step
    assert_eq!(stats_fd.jacobian_evals, stats_fd.accepted);
    assert_eq!(stats_ex.jacobian_evals, stats_ex.accepted);
    assert_eq!(
        stats_ex.rhs_evals,
        1 + 1 + (stats_ex.accepted - 1) + stats_ex.accepted + 5 * stats_ex.steps,
        "f(t0) + start-step estimate + f at each later step start + f_t + 5 per attempt: {stats_ex:?}"
    );
}

/// Van der Pol μ = 1000 from (2, 0): y1 at t = 500 and t = 3000 from SciPy 1.17
/// `solve_ivp(method="Radau", rtol=1e-12, atol=1e-15)` with the exact Jacobian (rtol
/// 1e-10 gives the same 9 digits).
const VDP_Y1: [(f64, f64); 2] = [
    (500.0, 1.596_768_951_052_56),
    (3000.0, -1.510_606_936_744_037_3),
];

#[test]
fn van_der_pol_mu_1000_is_cheap_for_rodas4_and_exhausts_dopri5() {
    // Nearly two relaxation periods (the period is ≈ (3 − 2 ln 2) μ ≈ 1614), including
    // the fast jump near t ≈ 1614.
    let y0 = [2.0, 0.0];
    let times = [VDP_Y1[0].0, VDP_Y1[1].0];
    let mut sys = van_der_pol();
    let mut stiff = Solver::new(2, options(Method::Rodas4, 1e-6, 1e-9));
    let (_, got, result) = solve(&mut stiff, &mut sys, 0.0, 3000.0, &y0, &times);
    result.unwrap();
    for ((_, reference), v) in VDP_Y1.iter().zip(&got) {
        // rtol 1e-6 per step; the global error on the slow branch stays below 1e-5
        assert_relative_eq!(v[0], *reference, max_relative = 1e-5);
    }
    let s = *stiff.stats();
    // pinned: a change in the step control or the coefficients moves these numbers
    assert_eq!((s.steps, s.accepted, s.rejected), (1593, 1581, 12), "{s:?}");
    // f(t0), start-step estimate, f at the 1580 later step starts, 2 per finite-difference
    // Jacobian, 1 per ∂f/∂t, 5 per step attempt
    assert_eq!(s.rhs_evals, 2 + 1580 + 2 * 1581 + 1581 + 5 * 1593, "{s:?}");

    let mut explicit = Solver::new(
        2,
        SolverOptions {
            max_steps: 100_000,
            ..options(Method::Dopri5, 1e-6, 1e-9)
        },
    );
    let (_, _, result) = solve(&mut explicit, &mut sys, 0.0, 3000.0, &y0, &[]);
    match result {
        Err(SolveError::TooManySteps { time, steps }) => {
            assert_eq!(steps, 100_000);
            // stability-limited steps (|h λ| ≲ 3.3 with λ ≈ −3000): far from the end
            assert!(time < 1000.0, "Dopri5 reached t = {time}");
        }
        other => panic!("expected Dopri5 to run out of steps, got {other:?}"),
    }
}

#[test]
fn rodas4_reports_blow_up_and_step_limit() {
    let mut sys = FnSystem::new(1, |_, y: &[f64], dy: &mut [f64]| dy[0] = y[0] * y[0]);
    let mut solver = Solver::new(1, options(Method::Rodas4, 1e-6, 1e-9));
    let (y, _, result) = solve(&mut solver, &mut sys, 0.0, 2.0, &[1.0], &[]);
    assert!(
        matches!(
            result,
            Err(SolveError::StepSizeTooSmall { .. }) | Err(SolveError::NonFinite { .. })
        ),
        "{result:?}"
    );
    assert!(y[0].is_finite());

    let mut osc = harmonic();
    let mut limited = Solver::new(
        2,
        SolverOptions {
            max_steps: 20,
            ..options(Method::Rodas4, 1e-8, 1e-10)
        },
    );
    let (_, _, result) = solve(&mut limited, &mut osc, 0.0, 1000.0, &[1.0, 0.0], &[]);
    assert!(
        matches!(result, Err(SolveError::TooManySteps { steps: 20, .. })),
        "{result:?}"
    );
}

#[test]
fn van_der_pol_rodas4_converges_with_tolerance() {
    // At rtol 1e-10 the error against the Radau reference at t = 500 drops below 1e-8.
    let mut sys = van_der_pol();
    let mut tight = Solver::new(2, options(Method::Rodas4, 1e-10, 1e-13));
    let (_, got, result) = solve(&mut tight, &mut sys, 0.0, 500.0, &[2.0, 0.0], &[500.0]);
    result.unwrap();
    assert_relative_eq!(got[0][0], VDP_Y1[0].1, max_relative = 1e-8);
}

#[test]
fn rodas4_reports_a_non_finite_derivative() {
    let mut sys = FnSystem::new(2, |t, _: &[f64], dy: &mut [f64]| {
        dy[0] = -1.0;
        dy[1] = if t > 1.0 { f64::NAN } else { 1.0 };
    });
    let mut solver = Solver::new(2, options(Method::Rodas4, 1e-6, 1e-9));
    let (_, _, result) = solve(&mut solver, &mut sys, 0.0, 3.0, &[5.0, 0.0], &[]);
    match result {
        Err(SolveError::NonFinite { time, state }) => {
            assert_eq!(state, 1);
            assert!((0.0..=1.0).contains(&time), "t = {time}");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn a_segment_shorter_than_the_time_resolution_is_one_exact_step() {
    // [100, 100 + 2 ulp]: a segment created by nearly coinciding stop times must not fail
    // with "step size too small". y' = -y over 2 ulp of 100 leaves y = 1 - 2.8e-14.
    let t0 = 100.0_f64;
    let t1 = f64::from_bits(t0.to_bits() + 2);
    for method in [Method::Dopri5, Method::Rodas4] {
        let mut sys = Decay { k: 1.0 };
        let mut solver = Solver::new(1, options(method, 1e-6, 1e-9));
        let (y, got, result) = solve(&mut solver, &mut sys, t0, t1, &[1.0], &[t1]);
        result.unwrap();
        assert_eq!(got[0], y);
        assert_relative_eq!(y[0], (-(t1 - t0)).exp(), max_relative = 1e-15);
        assert_eq!(solver.stats().accepted, 1, "{method:?}");
    }
}

#[test]
fn switching_method_on_a_solver_matches_a_fresh_solver() {
    let mut sys = linear2();
    let rodas = options(Method::Rodas4, 1e-8, 1e-12);
    let mut fresh = Solver::new(2, rodas.clone());
    let (expected, _, r) = solve(&mut fresh, &mut sys, 0.0, 3.0, &[1.0, 0.0], &[]);
    r.unwrap();
    let mut switched = Solver::new(2, options(Method::Dopri5, 1e-6, 1e-9));
    solve(&mut switched, &mut sys, 0.0, 3.0, &[1.0, 0.0], &[])
        .2
        .unwrap();
    switched.set_options(rodas.clone());
    switched.reset_stats();
    assert_eq!(switched.options(), &rodas);
    let (y, _, r) = solve(&mut switched, &mut sys, 0.0, 3.0, &[1.0, 0.0], &[]);
    r.unwrap();
    assert_eq!(y, expected);
    assert_eq!(switched.stats(), fresh.stats());
}

#[test]
fn robertson_to_1e11_matches_the_ivp_test_set() {
    // Reference: "Test Set for IVP Solvers" (Mazzia & Magherini, problem ROBER) at
    // t = 1e11: (0.2083340149701255e-07, 0.8333360770334713e-13, 0.9999999791665050);
    // SciPy 1.17 Radau at rtol 1e-12 agrees to 1e-11 relative. At atol 1e-20 relative
    // accuracy is asked of y2 ~ 1e-13: the finite-difference increments must follow
    // (floor min(1e-5, atol/rtol)), or the inexact Jacobian costs 10x the steps.
    const REF: [f64; 3] = [
        0.208_334_014_970_125_5e-7,
        0.833_336_077_033_471_3e-13,
        0.999_999_979_166_505,
    ];
    let mut stats = Vec::new();
    for exact in [false, true] {
        let mut sys = robertson();
        if exact {
            sys.jac = Some(robertson_jacobian);
        }
        let mut solver = Solver::new(3, options(Method::Rodas4, 1e-8, 1e-20));
        let (y, _, result) = solve(&mut solver, &mut sys, 0.0, 1e11, &[1.0, 0.0, 0.0], &[]);
        result.unwrap();
        // the error accumulates over 17 decades of t: 1e-7 relative on every component
        for (a, b) in y.iter().zip(REF) {
            assert_relative_eq!(*a, b, max_relative = 1e-7);
        }
        stats.push(*solver.stats());
    }
    // SciPy Radau needs 1716 steps for the same tolerances
    assert!(stats[1].accepted < 2000, "{stats:?}");
    assert!(
        stats[0].accepted <= stats[1].accepted + stats[1].accepted / 10,
        "{stats:?}"
    );
}

#[test]
fn the_right_hand_side_is_never_evaluated_outside_the_segment() {
    // A piecewise model relies on it: f beyond a stop time may belong to the next piece.
    let segments = [
        (0.0, 365.0),
        (9.3, 9.300_000_000_1),
        (100.0, f64::from_bits(100.0_f64.to_bits() + 3)),
        (0.0, 1e-12),
    ];
    for method in [Method::Dopri5, Method::Rodas4] {
        for (t0, t1) in segments {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            let mut sys = FnSystem::new(2, |t: f64, y: &[f64], dy: &mut [f64]| {
                lo = lo.min(t);
                hi = hi.max(t);
                dy[0] = -0.3 * y[0] + (0.1 * t).sin();
                dy[1] = 0.3 * y[0] - 0.01 * y[1];
            });
            let mut solver = Solver::new(2, options(method, 1e-8, 1e-10));
            let (_, _, result) = solve(&mut solver, &mut sys, t0, t1, &[1.0, 0.0], &[t1]);
            result.unwrap();
            assert!(
                lo >= t0 && hi <= t1,
                "{method:?} on [{t0}, {t1}] evaluated f on [{lo}, {hi}]"
            );
        }
    }
}
