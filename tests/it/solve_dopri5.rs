//! Dormand–Prince 5(4) against analytic solutions; output placement; failures; pinned
//! work statistics.

use crate::common::solve as solve_common;

use approx::assert_relative_eq;
use cartkin::solve::{Method, OdeSystem, SolveError, Solver, SolverOptions};
use solve_common::{harmonic, linear2, linear2_exact, solve, Decay, FnSystem};

fn options(rtol: f64, atol: f64) -> SolverOptions {
    solve_common::options(Method::Dopri5, rtol, atol)
}

#[test]
fn exponential_decay_matches_analytic_at_rtol_1e10() {
    // y' = -k y, y(0) = 2: y(t) = 2 exp(-k t) (analytic).
    let mut sys = Decay { k: 0.5 };
    let mut solver = Solver::new(1, options(1e-10, 1e-14));
    let outputs: Vec<f64> = (0..=20).map(|i| i as f64 * 0.5).collect();
    let (y, got, result) = solve(&mut solver, &mut sys, 0.0, 10.0, &[2.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        // global error of a 5th-order method at rtol 1e-10: a few 1e-10 relative
        assert_relative_eq!(v[0], 2.0 * (-0.5 * t).exp(), max_relative = 1e-9);
    }
    assert_relative_eq!(y[0], 2.0 * (-5.0f64).exp(), max_relative = 1e-9);
}

#[test]
fn linear_two_state_system_matches_analytic_at_rtol_1e10() {
    let mut sys = linear2();
    let mut solver = Solver::new(2, options(1e-10, 1e-14));
    let outputs: Vec<f64> = (0..=40).map(|i| i as f64 * 0.1).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 4.0, &[1.0, 0.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        let exact = linear2_exact(*t);
        // relative where the solution is O(1e-2..1), absolute 1e-12 at t = 0 for y2 = 0
        assert_relative_eq!(v[0], exact[0], max_relative = 1e-9, epsilon = 1e-12);
        assert_relative_eq!(v[1], exact[1], max_relative = 1e-9, epsilon = 1e-12);
    }
}

#[test]
fn harmonic_oscillator_tracks_cos_and_sin_over_three_periods() {
    // y1' = y2, y2' = -y1, y(0) = (1, 0): y = (cos t, -sin t) (analytic).
    let mut sys = harmonic();
    let mut solver = Solver::new(2, options(1e-10, 1e-12));
    let outputs: Vec<f64> = (0..=60).map(|i| i as f64 * 0.3).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 18.0, &[1.0, 0.0], &outputs);
    result.unwrap();
    for (t, v) in outputs.iter().zip(&got) {
        // amplitude 1: absolute error; the error grows linearly in t, 1e-8 is ample.
        assert!(
            (v[0] - t.cos()).abs() < 1e-8,
            "t={t}: {} vs {}",
            v[0],
            t.cos()
        );
        assert!(
            (v[1] + t.sin()).abs() < 1e-8,
            "t={t}: {} vs {}",
            v[1],
            -t.sin()
        );
    }
}

#[test]
fn outputs_at_t0_and_t1_are_exact_states() {
    let mut sys = Decay { k: 1.0 };
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let outputs = [1.0, 1.0, 2.5, 4.0, 4.0];
    let (y, got, result) = solve(&mut solver, &mut sys, 1.0, 4.0, &[3.0], &outputs);
    result.unwrap();
    // at t0: the initial state itself (bitwise)
    assert_eq!(got[0], vec![3.0]);
    assert_eq!(got[1], vec![3.0]);
    // at t1: exactly the final state (bitwise), which is accurate to the tolerance
    assert_eq!(got[3], y);
    assert_eq!(got[4], y);
    assert_relative_eq!(y[0], 3.0 * (-3.0f64).exp(), max_relative = 1e-5);
    // an output inside: y(2.5) = 3 exp(-1.5)
    assert_relative_eq!(got[2][0], 3.0 * (-1.5f64).exp(), max_relative = 1e-5);
}

#[test]
fn dense_output_serves_many_outputs_inside_one_step() {
    // A slow decay: at rtol 1e-6 a handful of steps cover [0, 1], so 1000 outputs are
    // served by the continuous extension (order 4), accurate to the tolerance.
    let mut sys = Decay { k: 0.1 };
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let outputs: Vec<f64> = (0..=1000).map(|i| i as f64 * 1e-3).collect();
    let (_, got, result) = solve(&mut solver, &mut sys, 0.0, 1.0, &[1.0], &outputs);
    result.unwrap();
    assert!(
        solver.stats().accepted < 10,
        "expected few steps, got {:?}",
        solver.stats()
    );
    let mut worst: f64 = 0.0;
    for (t, v) in outputs.iter().zip(&got) {
        worst = worst.max((v[0] - (-0.1 * t).exp()).abs());
    }
    // error of the dense output ≲ tolerance (1e-6 relative on a solution of size ~1)
    assert!(worst < 1e-6, "worst dense-output error {worst:e}");
    assert!(worst > 0.0, "outputs cannot all be exact");
}

#[test]
fn dense_output_is_continuous_with_the_step_end_points() {
    // Outputs straddling step boundaries must join smoothly: compare a run with outputs
    // on a fine grid to a run that steps exactly to each output (outputs == t1).
    let mut sys = harmonic();
    let grid: Vec<f64> = (0..=500).map(|i| i as f64 * 0.01).collect();
    let mut solver = Solver::new(2, options(1e-8, 1e-10));
    let (_, dense, result) = solve(&mut solver, &mut sys, 0.0, 5.0, &[1.0, 0.0], &grid);
    result.unwrap();
    for (t, v) in grid.iter().zip(&dense) {
        assert!((v[0] - t.cos()).abs() < 1e-7, "t={t}");
        assert!((v[1] + t.sin()).abs() < 1e-7, "t={t}");
    }
}

#[test]
fn blow_up_gives_an_error_not_nan() {
    // y' = y², y(0) = 1: y = 1/(1 - t) is singular at t = 1 (analytic).
    let mut sys = FnSystem::new(1, |_, y, dy| dy[0] = y[0] * y[0]);
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let (y, got, result) = solve(&mut solver, &mut sys, 0.0, 2.0, &[1.0], &[0.5, 2.0]);
    let time = match result {
        Err(SolveError::StepSizeTooSmall { time, .. })
        | Err(SolveError::NonFinite { time, .. }) => time,
        other => panic!("expected a step-size or non-finite error, got {other:?}"),
    };
    assert!((time - 1.0).abs() < 1e-3, "failed at t = {time}");
    assert!(y[0].is_finite());
    // the output before the singularity was delivered: y(0.5) = 2
    assert_relative_eq!(got[0][0], 2.0, max_relative = 1e-5);
    assert!(got[1].is_empty(), "no output past the singularity");
}

#[test]
fn non_finite_derivative_is_reported_with_state_and_time() {
    // A right-hand side that turns NaN in its second component after t = 1.
    let mut sys = FnSystem::new(2, |t, _, dy| {
        dy[0] = -1.0;
        dy[1] = if t > 1.0 { f64::NAN } else { 1.0 };
    });
    let mut solver = Solver::new(2, options(1e-6, 1e-9));
    let (_, _, result) = solve(&mut solver, &mut sys, 0.0, 3.0, &[5.0, 0.0], &[]);
    match result {
        Err(SolveError::NonFinite { time, state }) => {
            assert_eq!(state, 1);
            assert!((0.0..=1.0).contains(&time), "t = {time}");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    // a non-finite initial state is refused at once
    let (_, _, result) = solve(&mut solver, &mut sys, 0.0, 3.0, &[1.0, f64::INFINITY], &[]);
    assert_eq!(
        result,
        Err(SolveError::NonFinite {
            time: 0.0,
            state: 1
        })
    );
}

#[test]
fn step_limit_gives_too_many_steps() {
    let mut sys = harmonic();
    let mut solver = Solver::new(
        2,
        SolverOptions {
            max_steps: 50,
            ..options(1e-8, 1e-10)
        },
    );
    let (_, _, result) = solve(&mut solver, &mut sys, 0.0, 1000.0, &[1.0, 0.0], &[]);
    match result {
        Err(SolveError::TooManySteps { time, steps }) => {
            assert_eq!(steps, 50);
            assert!(time > 0.0 && time < 1000.0);
        }
        other => panic!("expected TooManySteps, got {other:?}"),
    }
    assert_eq!(solver.stats().steps, 50);
}

#[test]
fn invalid_input_is_an_error() {
    let mut sys = Decay { k: 1.0 };
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let cases: [(f64, f64, Vec<f64>, &[f64]); 4] = [
        (0.0, 1.0, vec![1.0], &[0.5, 0.2]), // unsorted outputs
        (0.0, 1.0, vec![1.0], &[1.5]),      // output beyond t1
        (1.0, 0.0, vec![1.0], &[]),         // t1 < t0
        (0.0, 1.0, vec![1.0, 2.0], &[]),    // wrong dimension
    ];
    for (t0, t1, y0, outputs) in cases {
        let (_, _, result) = solve(&mut solver, &mut sys, t0, t1, &y0, outputs);
        assert!(
            matches!(result, Err(SolveError::InvalidInput { .. })),
            "{t0} {t1} {y0:?} {outputs:?}: {result:?}"
        );
    }
    let mut bad = Solver::new(
        1,
        SolverOptions {
            rtol: -1.0,
            ..options(1e-6, 1e-9)
        },
    );
    let (_, _, result) = solve(&mut bad, &mut sys, 0.0, 1.0, &[1.0], &[]);
    assert!(matches!(result, Err(SolveError::InvalidInput { .. })));
    // atol = 0 would leave a state at zero without an error scale (0/0 in the norm)
    let mut no_atol = Solver::new(1, options(1e-6, 0.0));
    let (_, _, result) = solve(&mut no_atol, &mut sys, 0.0, 1.0, &[0.0], &[]);
    match result {
        Err(e @ SolveError::InvalidInput { .. }) => assert!(e.to_string().contains("atol = 0")),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn empty_segment_returns_the_state_at_its_outputs() {
    let mut sys = Decay { k: 1.0 };
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let (y, got, result) = solve(&mut solver, &mut sys, 2.0, 2.0, &[7.0], &[2.0]);
    result.unwrap();
    assert_eq!(y, vec![7.0]);
    assert_eq!(got[0], vec![7.0]);
    assert_eq!(solver.stats().rhs_evals, 0);
}

#[test]
fn repeated_calls_are_identical_and_dimension_changes_are_handled() {
    let mut solver = Solver::new(1, options(1e-8, 1e-10));
    let mut decay = Decay { k: 0.3 };
    let first = solve(&mut solver, &mut decay, 0.0, 7.0, &[1.0], &[3.0, 7.0]);
    let stats_first = *solver.stats();
    solver.reset_stats();
    let mut osc = harmonic();
    solve(&mut solver, &mut osc, 0.0, 2.0, &[1.0, 0.0], &[])
        .2
        .unwrap();
    solver.reset_stats();
    let again = solve(&mut solver, &mut decay, 0.0, 7.0, &[1.0], &[3.0, 7.0]);
    assert_eq!(first.0, again.0);
    assert_eq!(first.1, again.1);
    assert_eq!(stats_first, *solver.stats());
}

#[test]
fn statistics_are_pinned_for_a_fixed_problem() {
    // Regression check: the linear 2-state system over [0, 4] at the default tolerances
    // (rtol 1e-6, atol 1e-9). If the step control changes these numbers change.
    let mut sys = linear2();
    let mut solver = Solver::new(2, SolverOptions::default());
    let (_, _, result) = solve(&mut solver, &mut sys, 0.0, 4.0, &[1.0, 0.0], &[1.0, 2.0]);
    result.unwrap();
    let s = *solver.stats();
    assert_eq!(s.steps, s.accepted + s.rejected);
    // 6 evaluations per step attempt + f(t0) + 1 for the starting-step estimate
    assert_eq!(s.rhs_evals, 6 * s.steps + 2);
    assert_eq!((s.steps, s.accepted, s.rejected), (36, 36, 0), "{s:?}");
    assert_eq!(s.jacobian_evals, 0);
    assert_eq!(s.lu_decompositions, 0);
}

#[test]
fn enter_segment_is_called_with_the_segment() {
    struct Recorder(Vec<(f64, f64)>);
    impl OdeSystem for Recorder {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, _t: f64, _y: &[f64], dy: &mut [f64]) {
            dy[0] = 1.0;
        }
        fn enter_segment(&mut self, start: f64, end: f64) {
            self.0.push((start, end));
        }
    }
    let mut sys = Recorder(Vec::new());
    let mut solver = Solver::new(1, options(1e-6, 1e-9));
    let (y, _, result) = solve(&mut solver, &mut sys, 0.5, 2.0, &[0.0], &[]);
    result.unwrap();
    assert_eq!(sys.0, vec![(0.5, 2.0)]);
    // y' = 1 is integrated exactly by any Runge-Kutta method (up to rounding)
    assert_relative_eq!(y[0], 1.5, max_relative = 1e-14);
}

#[test]
fn h_max_and_h_init_are_respected() {
    // h_max = 0.1 over [0, 10]: at least 100 accepted steps, though the tolerance alone
    // would allow far fewer.
    let mut sys = Decay { k: 0.1 };
    let mut capped = Solver::new(
        1,
        SolverOptions {
            h_max: 0.1,
            ..options(1e-6, 1e-9)
        },
    );
    solve(&mut capped, &mut sys, 0.0, 10.0, &[1.0], &[])
        .2
        .unwrap();
    assert!(capped.stats().accepted >= 100, "{:?}", capped.stats());
    let mut free = Solver::new(1, options(1e-6, 1e-9));
    solve(&mut free, &mut sys, 0.0, 10.0, &[1.0], &[])
        .2
        .unwrap();
    assert!(free.stats().accepted < 30, "{:?}", free.stats());

    // a given first step skips the starting-step estimate (one evaluation fewer)
    let mut given = Solver::new(
        1,
        SolverOptions {
            h_init: Some(0.01),
            ..options(1e-6, 1e-9)
        },
    );
    solve(&mut given, &mut sys, 0.0, 10.0, &[1.0], &[])
        .2
        .unwrap();
    let s = *given.stats();
    assert_eq!(s.rhs_evals, 6 * s.steps + 1, "{s:?}");
}
