//! Exact solutions of linear models under `solver auto` (matrix exponentials between
//! events) against the pharmacokinetic closed forms written out here: multiple IV
//! boluses into one compartment, a two-compartment bolus and a zero-order infusion
//! (Gibaldi & Perrier, Pharmacokinetics, 2nd ed. 1982, ch. 1–2), their parameter
//! derivatives, and a non-linear model that keeps the step-by-step solvers.

use std::path::Path;

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict};

fn dose(time: f64, amount: f64, duration: Option<f64>) -> Dose {
    Dose {
        time,
        amount,
        target: None,
        duration,
        line: 0,
    }
}

const ONE: &str = "model one\nparam CL = 2 bounds 1e-6 1e6 log\nparam V = 30 bounds 1e-6 1e6 log\n\
param sd = 0.1 residual\nstate A = 0\nddt(A) = -CL / V * A\ndose A\noutput conc = A / V\n\
error conc add(sd)\n";

const TWO: &str =
    "model two\nparam k10 = 0.3 bounds 1e-6 1e6 log\nparam k12 = 0.5 bounds 1e-6 1e6 log\n\
param k21 = 0.2 bounds 1e-6 1e6 log\nparam V = 10 bounds 1e-6 1e6 log\nparam sd = 0.1 residual\n\
state A1 = 0\nstate A2 = 0\nddt(A1) = -(k10 + k12) * A1 + k21 * A2\nddt(A2) = k12 * A1 - k21 * A2\n\
dose A1\noutput conc = A1 / V\nerror conc add(sd)\n";

fn predict(model: &Model, theta: &[f64], doses: &[Dose], times: &[f64]) -> (Vec<f64>, usize) {
    let cov = Covariates::default();
    let ind = Individual {
        doses,
        covariates: &cov,
    };
    let outputs = vec![0; times.len()];
    let mut out = vec![0.0; times.len()];
    let stats = model
        .predict_with_stats(theta, &ind, times, &outputs, &mut out)
        .unwrap();
    (out, stats.exponentials)
}

#[test]
fn multiple_boluses_match_the_superposed_closed_form() {
    // C(t) = Σ_{t_i ≤ t} D_i/V·e^{−k(t − t_i)}, k = CL/V: a loading dose and six
    // maintenance doses every 12 h, sampled between and at dose times
    let model = Model::parse(ONE, Path::new("one.model")).unwrap();
    let (cl, v) = (2.0, 30.0);
    let doses: Vec<Dose> = std::iter::once(dose(0.0, 300.0, None))
        .chain((1..=6).map(|i| dose(12.0 * i as f64, 100.0, None)))
        .collect();
    let times = [0.5, 6.0, 12.0, 30.0, 71.9, 72.0, 100.0, 200.0];
    let (out, exponentials) = predict(&model, &[cl, v, 0.1], &doses, &times);
    assert!(exponentials > 0, "the exact solution was not used");
    for (t, c) in times.iter().zip(&out) {
        let exact: f64 = doses
            .iter()
            .filter(|d| d.time <= *t)
            .map(|d| d.amount / v * (-(cl / v) * (t - d.time)).exp())
            .sum();
        // exact to rounding: 1e-13 relative
        assert!(
            (c - exact).abs() <= 1e-13 * exact,
            "t = {t}: {c} vs {exact}"
        );
    }
}

/// The two-compartment micro-constants' hybrid rates α > β and the amount in the
/// central compartment per unit bolus, a(t) = [(α − k21)e^{−αt} + (k21 − β)e^{−βt}]/(α − β).
fn two_compartment(k10: f64, k12: f64, k21: f64) -> (f64, f64, impl Fn(f64) -> f64) {
    let s = k10 + k12 + k21;
    let root = (s * s - 4.0 * k10 * k21).sqrt();
    let (alpha, beta) = (0.5 * (s + root), 0.5 * (s - root));
    let unit = move |t: f64| {
        ((alpha - k21) * (-alpha * t).exp() + (k21 - beta) * (-beta * t).exp()) / (alpha - beta)
    };
    (alpha, beta, unit)
}

#[test]
fn two_compartments_with_a_bolus_and_an_infusion_match_the_closed_form() {
    let model = Model::parse(TWO, Path::new("two.model")).unwrap();
    let (k10, k12, k21, v) = (0.3, 0.5, 0.2, 10.0);
    let (alpha, beta, unit) = two_compartment(k10, k12, k21);
    // the integral of the unit response from 0 to t (an infusion of rate 1 lasting t)
    let infused = |t: f64| {
        ((alpha - k21) / alpha * (1.0 - (-alpha * t).exp())
            + (k21 - beta) / beta * (1.0 - (-beta * t).exp()))
            / (alpha - beta)
    };
    // a bolus of 50 at 0, then 120 infused over 4 h from 24 h (rate 30)
    let doses = [dose(0.0, 50.0, None), dose(24.0, 120.0, Some(4.0))];
    let times = [1.0, 10.0, 24.0, 25.5, 28.0, 40.0, 96.0];
    let (out, exponentials) = predict(&model, &[k10, k12, k21, v, 0.1], &doses, &times);
    assert!(exponentials > 0);
    for (t, c) in times.iter().zip(&out) {
        // the infusion by superposition: rate 30 switched on at 24 and off at 28
        let mut amount = 50.0 * unit(*t);
        if *t > 24.0 {
            amount += 30.0 * (infused(t - 24.0) - infused((t - 28.0).max(0.0)));
        }
        let exact = amount / v;
        // exact to rounding (the Padé scaling and squaring): 1e-12 relative
        assert!(
            (c - exact).abs() <= 1e-12 * exact,
            "t = {t}: {c} vs {exact}"
        );
    }
}

#[test]
fn parameter_derivatives_of_the_exact_solution_match_the_closed_form() {
    // single bolus D at 0: C = D/V·e^{−CL·t/V}; ∂C/∂CL = −(t/V)·C,
    // ∂C/∂V = C·(−1/V + CL·t/V²); the forward sensitivities are linear too and solved
    // the same way
    let model = Model::parse(ONE, Path::new("one.model")).unwrap();
    let (cl, v, d) = (2.0, 30.0, 300.0);
    let doses = [dose(0.0, d, None)];
    let times = [0.5, 5.0, 24.0, 60.0];
    let cov = Covariates::default();
    let ind = Individual {
        doses: &doses,
        covariates: &cov,
    };
    let theta = [cl, v, 0.1];
    let mut out = vec![0.0; times.len()];
    let mut jac = vec![0.0; times.len() * theta.len()];
    model
        .predict_jacobian(&theta, &ind, &times, &[0; 4], &mut out, &mut jac)
        .unwrap();
    for (j, t) in times.iter().enumerate() {
        let c = d / v * (-cl * t / v).exp();
        let (dcl, dv) = (-t / v * c, c * (-1.0 / v + cl * t / (v * v)));
        assert!((out[j] - c).abs() <= 1e-13 * c);
        assert!(
            (jac[j * 3] - dcl).abs() <= 1e-12 * dcl.abs(),
            "t = {t}: {} vs {dcl}",
            jac[j * 3]
        );
        assert!(
            (jac[j * 3 + 1] - dv).abs() <= 1e-12 * dv.abs(),
            "t = {t}: {} vs {dv}",
            jac[j * 3 + 1]
        );
        assert_eq!(
            jac[j * 3 + 2],
            0.0,
            "residual parameters do not move predictions"
        );
    }
}

#[test]
fn a_saturable_elimination_is_not_linear_and_keeps_the_step_solvers() {
    let text = ONE.replace(
        "ddt(A) = -CL / V * A",
        "ddt(A) = -CL / V * A / (1 + A / 1e3)",
    );
    let model = Model::parse(&text, Path::new("mm.model")).unwrap();
    let (out, exponentials) = predict(&model, &[2.0, 30.0, 0.1], &[dose(0.0, 300.0, None)], &[5.0]);
    assert_eq!(exponentials, 0);
    assert!(out[0] > 0.0 && out[0] < 10.0);
}
