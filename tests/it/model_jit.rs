//! The native code of model programs (Cranelift JIT) against the interpreter, its
//! reference: every built-in model, all outputs over a year at typical and randomly
//! perturbed parameters, and the right-hand side at random states and times, must give
//! BIT-IDENTICAL results (tolerance 0: the JIT performs the same IEEE operations in the
//! same order and calls the same `f64::exp`/`ln`/`powf`). A closed-form model using
//! every function and operator of the language covers the instructions the library
//! does not use.

use std::path::Path;

use cartkin::data::{Covariates, Dose};
use cartkin::model::{builtin_names, Individual, Model, Predict};
use cartkin::solve::OdeSystem;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn predict_bits(
    m: &Model,
    theta: &[f64],
    doses: &[Dose],
    times: &[f64],
) -> Vec<Result<u64, String>> {
    let cov = Covariates::default();
    let ind = Individual {
        doses,
        covariates: &cov,
    };
    let mut all = Vec::new();
    for o in 0..m.outputs().len() {
        let mut out = vec![0.0; times.len()];
        let r = m.predict(theta, &ind, times, &vec![o; times.len()], &mut out);
        match r {
            Ok(()) => all.extend(out.iter().map(|v| Ok(v.to_bits()))),
            Err(e) => all.push(Err(e.to_string())),
        }
    }
    all
}

fn native(m: &Model) -> bool {
    let n = m.is_native();
    if cfg!(feature = "jit") && std::env::var_os("CARTKIN_NO_JIT").is_none() {
        assert!(n, "model {} did not get native code", m.name());
    }
    n
}

fn times() -> Vec<f64> {
    let mut t: Vec<f64> = (0..=730).map(|i| i as f64 * 0.5).collect();
    let tmax: f64 = 9.3;
    t.extend([
        tmax,
        f64::from_bits(tmax.to_bits() - 1),
        f64::from_bits(tmax.to_bits() + 1),
        28.0,
    ]);
    t.sort_by(f64::total_cmp);
    t
}

#[test]
fn builtin_models_native_matches_interpreter_bit_for_bit() {
    let mut rng = ChaCha8Rng::seed_from_u64(20261129);
    let doses = [Dose {
        time: 0.0,
        amount: 5e7,
        target: None,
        duration: None,
        line: 0,
    }];
    let times = times();
    for name in builtin_names() {
        let m = Model::load(name).unwrap_or_else(|e| panic!("{e}"));
        native(&m);
        let r = m.interpreted();
        assert!(!r.is_native());
        let typical = m.typical();
        for k in 0..3 {
            let theta: Vec<f64> = typical
                .iter()
                .zip(m.parameters())
                .map(|(x, p)| {
                    if k == 0 || p.fixed {
                        *x
                    } else {
                        let y = x * (0.4 * rng.random::<f64>() - 0.2).exp();
                        y.clamp(p.lower, p.upper)
                    }
                })
                .collect();
            assert_eq!(
                predict_bits(&m, &theta, &doses, &times),
                predict_bits(&r, &theta, &doses, &times),
                "model {name}, parameter set {k}"
            );
            if m.is_closed_form() {
                continue;
            }
            let cov = Covariates::default();
            let ind = Individual {
                doses: &[],
                covariates: &cov,
            };
            let mut a = m.ode_system(&theta, &ind).unwrap_or_else(|e| panic!("{e}"));
            let mut b = r.ode_system(&theta, &ind).unwrap_or_else(|e| panic!("{e}"));
            let y0 = a.initial_state();
            let n = y0.len();
            let (mut da, mut db) = (vec![0.0; n], vec![0.0; n]);
            for _ in 0..50 {
                let t = 400.0 * rng.random::<f64>() - 20.0;
                let y: Vec<f64> = y0
                    .iter()
                    .map(|v| (v.abs() + 1.0) * (4.0 * rng.random::<f64>() - 1.0))
                    .collect();
                a.rhs(t, &y, &mut da);
                b.rhs(t, &y, &mut db);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&da),
                    bits(&db),
                    "model {name}: rhs at t = {t}, y = {y:?}"
                );
            }
        }
    }
}

const EVERYTHING: &str = "model everything
param a = 1.7
param b = 0.6 bounds -10 10 identity
let u = pow(t + a, b) + sqrt(t) - log10(t + 1) + abs(b - t)
let v = min(u, t * b) * max(a, t / 3)
output y = if(t < a && b > 0.5 || t >= 7, exp(-b * t) * u,
    if(t == 3 || t != t, log(t + a) / v, -v^2 + (t <= 4) + (t > 5)))
output z = if(b != 0.6, 1, a * b + t * u - v / (t + 1) * a)
param s = 0.1 residual
error y add(s)
error z add(s)
";

#[test]
fn every_operation_native_matches_interpreter_bit_for_bit() {
    let m =
        Model::parse(EVERYTHING, Path::new("everything.model")).unwrap_or_else(|e| panic!("{e}"));
    native(&m);
    let r = m.interpreted();
    let times: Vec<f64> = (0..=400).map(|i| i as f64 * 0.025).collect();
    for theta in [
        [1.7, 0.6, 0.1],
        [0.2, -0.3, 0.1],
        [5.0, 0.05, 0.1],
        [3.0, 0.55, 0.1],
    ] {
        let got = predict_bits(&m, &theta, &[], &times);
        assert!(got.iter().all(|r| r.is_ok()), "{theta:?}: {got:?}");
        assert_eq!(got, predict_bits(&r, &theta, &[], &times), "{theta:?}");
    }
    // One value by hand (t = 0.5, a = 1.7, b = 0.6: first branch).
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    let mut out = [0.0];
    m.predict(&[1.7, 0.6, 0.1], &ind, &[0.5], &[0], &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    let t: f64 = 0.5;
    let u = (t + 1.7).powf(0.6) + t.sqrt() - (t + 1.0).log10() + (0.6 - t).abs();
    assert_eq!(out[0].to_bits(), ((-0.6 * t).exp() * u).to_bits());
}
