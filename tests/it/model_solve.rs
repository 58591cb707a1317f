//! ODE models solved through `Model::predict`, against analytic solutions (written out
//! in each test): bolus superposition, a zero-order infusion, a declared stop time, dose
//! targets and scales, solver statistics and failure messages.

use std::path::Path;

use approx::assert_relative_eq;
use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict, PredictError};

fn model(src: &str) -> Model {
    match Model::parse(src, Path::new("solve_test.model")) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn dose(time: f64, amount: f64, target: Option<&str>, duration: Option<f64>) -> Dose {
    Dose {
        time,
        amount,
        target: target.map(str::to_string),
        duration,
        line: 0,
    }
}

fn run(m: &Model, theta: &[f64], doses: &[Dose], times: &[f64]) -> Result<Vec<f64>, PredictError> {
    let cov = Covariates::default();
    let ind = Individual {
        doses,
        covariates: &cov,
    };
    let mut out = vec![0.0; times.len()];
    m.predict(theta, &ind, times, &vec![0; times.len()], &mut out)?;
    Ok(out)
}

const ONE_CMT: &str = "model one_cmt
param k = 0.3 unit \"1/day\"
param V = 2.5
param s = 0.1 residual
state A = 0
ddt(A) = -k * A
dose A
output conc = A / V
error conc prop(s)
solver dopri5 rtol 1e-10 atol 1e-12
";

#[test]
fn two_boluses_superpose() {
    let m = model(ONE_CMT);
    assert!(!m.is_closed_form());
    let (k, v) = (0.3f64, 2.5);
    let doses = [dose(0.0, 100.0, None, None), dose(5.0, 50.0, None, None)];
    let times = [0.0, 1.0, 4.999, 5.0, 5.5, 10.0, 24.0];
    let out = run(&m, &[k, v, 0.1], &doses, &times).unwrap();
    // analytic: C(t) = [100 e^{-kt} + 50 e^{-k(t-5)}·(t ≥ 5)] / V
    for (t, c) in times.iter().zip(&out) {
        let mut a = 100.0 * (-k * t).exp();
        if *t >= 5.0 {
            a += 50.0 * (-k * (t - 5.0)).exp();
        }
        assert_relative_eq!(*c, a / v, max_relative = 1e-8);
    }
    // a time equal to a dose time sees the state after the dose
    assert!(out[3] > out[2] + 50.0 / v * 0.99);
}

#[test]
fn infusion_matches_the_one_compartment_formula() {
    let m = model(ONE_CMT);
    let (k, v, amt, dur) = (0.3f64, 2.5, 100.0, 2.0);
    let doses = [dose(1.0, amt, Some("A"), Some(dur))];
    let times = [0.0, 1.0, 2.0, 3.0, 3.5, 8.0];
    let out = run(&m, &[k, v, 0.1], &doses, &times).unwrap();
    // analytic, rate R = amt/dur from t = 1 to 3: C = R/(kV)(1 − e^{−k(t−1)}) during,
    // C(3)·e^{−k(t−3)} after
    let r = amt / dur;
    let during = |t: f64| r / (k * v) * (1.0 - (-k * (t - 1.0)).exp());
    let expected = [
        0.0,
        0.0,
        during(2.0),
        during(3.0),
        during(3.0) * (-k * 0.5f64).exp(),
        during(3.0) * (-k * 5.0f64).exp(),
    ];
    for (c, e) in out.iter().zip(expected) {
        assert_relative_eq!(*c, e, max_relative = 1e-8, epsilon = 1e-12);
    }
}

#[test]
fn dose_targets_by_number_and_scale() {
    let src = ONE_CMT.replace("dose A", "param f = 0.5\ndose A scale f * 2");
    let m = model(&src);
    let theta = [0.3, 2.5, 0.1, 0.25];
    // scale f*2 = 0.5: 100 cells → 50 in A; CMT "1" is the first state
    let out = run(&m, &theta, &[dose(0.0, 100.0, Some("1"), None)], &[0.0]).unwrap();
    assert_relative_eq!(out[0], 50.0 / 2.5, max_relative = 1e-15);
    let err = run(&m, &theta, &[dose(0.0, 100.0, Some("gut"), None)], &[0.0]).unwrap_err();
    assert!(err.to_string().contains("dose target `gut`"), "{err}");
}

#[test]
fn a_model_without_dose_line_ignores_doses() {
    let m = model("model growth\nparam g = 0.1\nparam s = 0.1 residual\nstate X = 1\nddt(X) = g * X\noutput x = X\nerror x add(s)\nsolver dopri5 rtol 1e-10 atol 1e-12");
    let out = run(&m, &[0.1, 0.1], &[dose(0.0, 1e6, None, None)], &[2.0]).unwrap();
    assert_relative_eq!(out[0], (0.2f64).exp(), max_relative = 1e-8);
}

#[test]
fn stop_time_is_honoured() {
    let m = model(
        "model piecewise
param g = 0.7
param d = 0.2
param tm = 3.3
param s = 0.1 residual
state X = 1
ddt(X) = if(t < tm, g * X, -d * X)
stop tm
output x = X
error x add(s)
solver dopri5 rtol 1e-10 atol 1e-12
",
    );
    let (g, d, tm) = (0.7f64, 0.2, 3.3);
    let times = [0.0, 1.0, 3.29, 3.3, 3.31, 10.0, 30.0];
    let (out, stats) = {
        let cov = Covariates::default();
        let ind = Individual {
            doses: &[],
            covariates: &cov,
        };
        let mut out = vec![0.0; times.len()];
        let stats = m
            .predict_with_stats(&[g, d, tm, 0.1], &ind, &times, &[0; 7], &mut out)
            .unwrap();
        (out, stats)
    };
    // analytic: e^{g t} before tm, e^{g tm} e^{−d (t − tm)} after
    for (t, x) in times.iter().zip(&out) {
        let e = if *t < tm {
            (g * t).exp()
        } else {
            (g * tm).exp() * (-d * (t - tm)).exp()
        };
        assert_relative_eq!(*x, e, max_relative = 1e-8);
    }
    // statistics are available and modest for this smooth problem
    assert!(stats.accepted > 10 && stats.accepted < 400, "{stats:?}");
    assert!(stats.rhs_evals >= 6 * stats.accepted, "{stats:?}");
}

#[test]
fn closed_form_model_reports_no_solver_work() {
    let m = Model::load("stein2019").unwrap();
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    let mut out = [0.0];
    let stats = m
        .predict_with_stats(&m.typical(), &ind, &[10.0], &[0], &mut out)
        .unwrap();
    assert_eq!(stats.rhs_evals, 0);
}

#[test]
fn division_by_a_state_reaching_zero_is_a_clear_error() {
    // x = 1 − t reaches 0 at t = 1, where y' = 1/x diverges
    let m = model("model singular\nparam s = 0.1 residual\nstate x = 1\nddt(x) = -1\nstate y = 0\nddt(y) = 1 / x\noutput y = y\nerror y add(s)");
    let err = run(&m, &[0.1], &[], &[0.5, 2.0]).unwrap_err();
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(msg.contains("model `singular`"), "{msg}");
    match &err {
        PredictError::Solve { time, state, .. } => {
            assert!((*time - 1.0).abs() < 1e-3, "{msg}");
            assert!(state == "y" || state == "x", "{msg}");
        }
        PredictError::NonFinite { what, time, .. } => {
            assert!((*time - 1.0).abs() < 1e-3, "{msg}");
            assert!(what.contains("ddt(y)"), "{msg}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn non_finite_individual_value_names_the_let() {
    let m = model("model bad\nparam a = 1 identity\nparam s = 0.1 residual\nlet la = log(a)\nstate x = la\nddt(x) = 0\noutput x = x\nerror x add(s)");
    let err = run(&m, &[-1.0, 0.1], &[], &[1.0]).unwrap_err();
    assert!(
        matches!(&err, PredictError::NonFinite { what, .. } if what == "`la`"),
        "{err}"
    );
}

#[test]
fn baseline_samples_before_the_dose_and_repeated_times() {
    let m = model(ONE_CMT);
    let (k, v) = (0.3f64, 2.5);
    let doses = [dose(0.0, 100.0, None, None)];
    // a pre-dose sample at t = -2 sees the initial state; repeated times give equal values
    let times = [-2.0, 0.0, 3.0, 3.0];
    let out = run(&m, &[k, v, 0.1], &doses, &times).unwrap();
    assert_eq!(out[0], 0.0);
    assert_relative_eq!(out[1], 100.0 / v, max_relative = 1e-12);
    assert_relative_eq!(out[2], 100.0 * (-k * 3.0).exp() / v, max_relative = 1e-8);
    assert_eq!(out[2], out[3]);
}

#[test]
fn non_finite_output_names_the_second_of_a_paired_quotient() {
    // p and q are consecutive quotients (one paired instruction); q divides by zero
    let m = model("model pair\nparam a = 1 identity\nparam b = 0 identity\nparam s = 0.1 residual\nstate x = 1\nddt(x) = 0\nlet p = x / a\nlet q = x / b\noutput y = p + q\nerror y add(s)");
    let err = run(&m, &[1.0, 0.0, 0.1], &[], &[1.0]).unwrap_err();
    assert!(
        matches!(&err, PredictError::NonFinite { what, .. } if what == "`q`"),
        "{err}"
    );
}
