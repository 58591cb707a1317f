//! NONMEM dosing records through the model: zero-order infusions (RATE, DUR), ADDL/II,
//! resets (EVID 3, 4) and CMT routing, each read from a CSV text, bound to a model and
//! predicted, against the analytic one-compartment solution written out in the test.
//!
//! One compartment, elimination k = CL/V, concentration C = A/V:
//! - bolus D at t_d: C(t) = D/V·e^{−k(t−t_d)} for t ≥ t_d;
//! - infusion of D over T from t_d (rate R = D/T): C(t) = R/(kV)·(1 − e^{−k(t−t_d)})
//!   while it runs, C(t_d+T)·e^{−k(t−t_d−T)} after (Gabrielsson & Weiner 2016, ch. 2);
//! - doses superpose (the system is linear).

use std::path::Path;

use approx::assert_relative_eq;
use cartkin::data::{read_csv_from, Dataset, ReadOptions, Subject, TimeUnit};
use cartkin::model::bind::bind;
use cartkin::model::Model;
use cartkin::simulate::records::predict_subject;

pub const ONE_CMT: &str = "model one_cmt
param CL = 1.2 unit \"L/day\"
param V = 3
param s = 0.1 residual
state A = 0
ddt(A) = -CL / V * A
dose A
output conc = A / V
error conc prop(s)
solver dopri5 rtol 1e-11 atol 1e-13
";

pub fn model(src: &str) -> Model {
    Model::parse(src, Path::new("nm.model")).unwrap_or_else(|e| panic!("{e}"))
}

/// Read `text`, bind it to `m` (data in days).
pub fn bound(m: &Model, text: &str) -> Dataset {
    let l = read_csv_from(
        text.as_bytes(),
        Path::new("nm.csv"),
        &ReadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    bind(m, &l.dataset, TimeUnit::Days).unwrap_or_else(|e| panic!("{e}"))
}

/// Predictions at the subject's observation records with the model's typical values.
pub fn predicted(m: &Model, s: &Subject) -> Vec<(f64, f64)> {
    let p = predict_subject(m, s, &m.typical()).unwrap_or_else(|e| panic!("{e}"));
    s.observations.iter().map(|o| o.time).zip(p).collect()
}

/// One-compartment analytic concentration of boluses (t_d, D) and infusions (t_d, D, T).
pub fn one_cmt(
    t: f64,
    k: f64,
    v: f64,
    boluses: &[(f64, f64)],
    infusions: &[(f64, f64, f64)],
) -> f64 {
    let mut c = 0.0;
    for &(td, d) in boluses {
        if t >= td {
            c += d / v * (-k * (t - td)).exp();
        }
    }
    for &(td, d, dur) in infusions {
        let r = d / dur;
        if t > td {
            let run = (t - td).min(dur);
            c += r / (k * v) * (1.0 - (-k * run).exp()) * (-k * (t - td - run)).exp();
        }
    }
    c
}

/// A CSV of observation rows at `times` (subject 1, column layout of `header`).
fn observations(times: &[f64], fill: &str) -> String {
    times.iter().map(|t| format!("1,{t},1{fill}\n")).collect()
}

#[test]
fn zero_order_infusions_match_the_analytic_solution() {
    let m = model(ONE_CMT);
    let (k, v) = (1.2 / 3.0, 3.0);
    let times = [0.5, 1.0, 2.0, 2.5, 3.0, 3.25, 4.0, 6.0, 10.0];
    // 100 at rate 50 (2 days) from 0, and 30 over DUR 0.5 from 3
    let text = format!(
        "ID,TIME,DV,AMT,EVID,RATE,DUR\n1,0,.,100,1,50,.\n1,3,.,30,1,.,0.5\n{}",
        observations(&times, ",.,0,.,.")
    );
    let s = &bound(&m, &text).subjects[0];
    for (t, c) in predicted(&m, s) {
        let exact = one_cmt(t, k, v, &[], &[(0.0, 100.0, 2.0), (3.0, 30.0, 0.5)]);
        assert_relative_eq!(c, exact, max_relative = 1e-6);
    }
}

#[test]
fn addl_doses_predict_like_the_doses_written_out() {
    let m = model(ONE_CMT);
    let (k, v) = (0.4, 3.0);
    let times = [1.0, 6.9, 7.0, 7.5, 14.0, 20.0, 30.0];
    let obs = observations(&times, ",.,0,.,.,.");
    // 4 infusions of 10 over 0.25 every 7 days, and a bolus of 5 with 2 more every 3 days
    let repeated =
        format!("ID,TIME,DV,AMT,EVID,DUR,ADDL,II\n1,0,.,10,1,0.25,3,7\n1,2,.,5,1,.,2,3\n{obs}");
    let obs = observations(&times, ",.,0,.");
    let written = format!(
        "ID,TIME,DV,AMT,EVID,DUR\n1,0,.,10,1,0.25\n1,7,.,10,1,0.25\n1,14,.,10,1,0.25\n1,21,.,10,1,0.25\n1,2,.,5,1,.\n1,5,.,5,1,.\n1,8,.,5,1,.\n{obs}"
    );
    let a = predicted(&m, &bound(&m, &repeated).subjects[0]);
    let b = predicted(&m, &bound(&m, &written).subjects[0]);
    assert_eq!(
        a, b,
        "ADDL/II and the doses written out give the same predictions"
    );
    let infusions: Vec<(f64, f64, f64)> =
        (0..4).map(|i| (7.0 * f64::from(i), 10.0, 0.25)).collect();
    let boluses = [(2.0, 5.0), (5.0, 5.0), (8.0, 5.0)];
    for (t, c) in a {
        assert_relative_eq!(
            c,
            one_cmt(t, k, v, &boluses, &infusions),
            max_relative = 1e-6
        );
    }
}

#[test]
fn resets_return_to_the_initial_state_and_stop_infusions() {
    let m = model(ONE_CMT);
    let (k, v) = (0.4, 3.0);
    let times = [1.0, 2.9, 3.0, 3.5, 6.0, 7.0, 9.0];
    // infusion 100 over 4 days from 0; EVID 3 at 3 (amount and infusion gone);
    // EVID 4 at 6: reset, then a bolus of 20
    let text = format!(
        "ID,TIME,DV,AMT,EVID,DUR\n1,0,.,100,1,4\n1,3,.,.,3,.\n1,6,.,20,4,.\n{}",
        observations(&times, ",.,0,.")
    );
    let s = &bound(&m, &text).subjects[0];
    for (t, c) in predicted(&m, s) {
        let exact = if t < 3.0 {
            one_cmt(t, k, v, &[], &[(0.0, 100.0, 4.0)])
        } else if t < 6.0 {
            0.0
        } else {
            one_cmt(t, k, v, &[(6.0, 20.0)], &[])
        };
        assert_relative_eq!(c, exact, max_relative = 1e-6, epsilon = 1e-12);
    }
}

#[test]
fn cmt_routes_doses_to_the_declared_states() {
    // depot (CMT 1) → central (CMT 2); `dose Ad cmt 1`, and `dose A cmt 2`
    let m = model(
        "model oral
param ka = 2
param CL = 1.2
param V = 3
param s = 0.1 residual
state Ad = 0
state A = 0
ddt(Ad) = -ka * Ad
ddt(A) = ka * Ad - CL / V * A
dose A cmt 2
dose Ad cmt 1
output conc = A / V cmt 2
error conc prop(s)
solver dopri5 rtol 1e-11 atol 1e-13
",
    );
    let (ka, k, v) = (2.0f64, 0.4f64, 3.0);
    let times = [0.5, 1.0, 3.0, 8.0];
    // oral 100 into CMT 1 at 0, IV 40 into CMT 2 at 2; observations in CMT 2
    let text = format!(
        "ID,TIME,DV,AMT,EVID,CMT\n1,0,.,100,1,1\n1,2,.,40,1,2\n{}",
        times
            .iter()
            .map(|t| format!("1,{t},1,.,0,2\n"))
            .collect::<String>()
    );
    let s = &bound(&m, &text).subjects[0];
    for (t, c) in predicted(&m, s) {
        // Bateman function for the oral dose, bolus for the IV one
        let oral = 100.0 * ka / (v * (ka - k)) * ((-k * t).exp() - (-ka * t).exp());
        let exact = oral + one_cmt(t, k, v, &[(2.0, 40.0)], &[]);
        assert_relative_eq!(c, exact, max_relative = 1e-6);
    }
}
