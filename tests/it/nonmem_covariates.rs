//! Time-varying covariates inside the ODE (LOCF, NOCB), the dose symbols `tad` and
//! `last_dose`, and covariates never silently defaulted when data are given.
//!
//! Step change: one compartment with CL = CLs·WT/70, so k = CLs·WT/(70·V) jumps when WT
//! changes at t_c: C(t) = D/V·e^{−k₁t} for t ≤ t_c, C(t_c)·e^{−k₂(t−t_c)} after — the
//! piecewise analytic solution.

use std::path::Path;

use approx::assert_relative_eq;
use cartkin::data::{read_csv_from, CovariateRule, ReadOptions, TimeUnit};
use cartkin::model::bind::bind;

use super::nonmem_dosing::{bound, model, one_cmt, predicted, ONE_CMT};

const ALLOMETRIC: &str = "model wt_cl
param CLs = 1.4 unit \"L/day\"
param V = 3
param s = 0.1 residual
covariate WT = 70 unit \"kg\"
let CL = CLs * WT / 70
state A = 0
ddt(A) = -CL / V * A
dose A
output conc = A / V
error conc prop(s)
solver dopri5 rtol 1e-11 atol 1e-13
";

/// Piecewise analytic concentration of a bolus D at 0 with k₁ until t_c, k₂ after.
fn piecewise(t: f64, d: f64, v: f64, k1: f64, k2: f64, tc: f64) -> f64 {
    if t <= tc {
        d / v * (-k1 * t).exp()
    } else {
        d / v * (-k1 * tc).exp() * (-k2 * (t - tc)).exp()
    }
}

const STEP_DATA: &str = "ID,TIME,DV,AMT,EVID,WT
1,0,.,100,1,70
1,1,1,.,0,70
1,5,1,.,0,70
1,6,1,.,0,.
1,10,.,.,2,140
1,10.5,1,.,0,140
1,15,1,.,0,140
";

#[test]
fn a_covariate_step_change_follows_the_piecewise_solution() {
    let m = model(ALLOMETRIC);
    let (v, k1, k2) = (3.0, 1.4 / 3.0, 1.4 * 2.0 / 3.0);
    let s = &bound(&m, STEP_DATA).subjects[0];
    // LOCF: WT = 140 from the EVID 2 record at t = 10 on
    for (t, c) in predicted(&m, s) {
        assert_relative_eq!(c, piecewise(t, 100.0, v, k1, k2, 10.0), max_relative = 1e-6);
    }
    // NOCB: the value at 10 holds back to the record before it (t = 5)
    let l = read_csv_from(
        STEP_DATA.as_bytes(),
        Path::new("nm.csv"),
        &ReadOptions {
            covariates: CovariateRule::Nocb,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let data = bind(&m, &l.dataset, TimeUnit::Days).unwrap();
    for (t, c) in predicted(&m, &data.subjects[0]) {
        assert_relative_eq!(c, piecewise(t, 100.0, v, k1, k2, 5.0), max_relative = 1e-6);
    }
}

#[test]
fn closed_forms_see_covariates_and_dose_symbols_at_each_time() {
    // conc = last_dose/V·e^{−k·tad}: the last dose only (superposition is the model's job)
    let m = model(
        "model cf
param k = 0.4
param V = 3
param s = 0.1 residual
covariate WT = 70
output conc = last_dose / V * exp(-k * tad) * WT / 70
error conc prop(s)
",
    );
    let s = &bound(
        &m,
        "ID,TIME,DV,AMT,EVID,WT\n1,-1,1,.,0,70\n1,0,.,100,1,70\n1,2,1,.,0,70\n1,5,.,50,1,70\n1,5,1,.,0,70\n1,8,1,.,0,140\n",
    )
    .subjects[0];
    let expected = [
        0.0,                                // before any dose: last_dose = 0
        100.0 / 3.0 * (-0.8f64).exp(),      // tad 2 after 100
        50.0 / 3.0,                         // at the second dose: tad 0, last_dose 50
        50.0 / 3.0 * (-1.2f64).exp() * 2.0, // tad 3, WT 140 at t = 8
    ];
    for ((_, c), e) in predicted(&m, s).into_iter().zip(expected) {
        assert_relative_eq!(c, e, max_relative = 1e-12);
    }
    // an ODE output may use them too; a derivative may not
    let e = cartkin::model::Model::parse(
        &ONE_CMT.replace("ddt(A) = -CL / V * A", "ddt(A) = -CL / V * A * tad"),
        Path::new("bad.model"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("bad.model:6:") && e.contains("`ddt(A)` uses `tad`"),
        "{e}"
    );
}

#[test]
fn a_missing_covariate_is_an_error_naming_it_and_its_model_line() {
    let m = model(ALLOMETRIC);
    // no WT column
    let l = read_csv_from(
        "ID,TIME,DV,AMT,EVID\n1,0,.,100,1\n1,1,5,.,0\n".as_bytes(),
        Path::new("nowt.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    let e = bind(&m, &l.dataset, TimeUnit::Days)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nowt.csv")
            && e.contains("covariate `WT`")
            && e.contains("nm.model line 6")
            && e.contains("no WT column"),
        "{e}"
    );
    // a WT column without a value for one subject
    let l = read_csv_from(
        "ID,TIME,DV,AMT,EVID,WT\n1,0,.,100,1,70\n1,1,5,.,0,70\n2,0,.,100,1,.\n2,1,5,.,0,.\n"
            .as_bytes(),
        Path::new("partwt.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    let e = bind(&m, &l.dataset, TimeUnit::Days)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 6") && e.contains("no numeric value for subject 2"),
        "{e}"
    );
    // a declared covariate no expression uses is not required
    let unused = model(&ONE_CMT.replace("param s", "covariate AGE = 40\nparam s"));
    let l = read_csv_from(
        "ID,TIME,DV,AMT,EVID\n1,0,.,100,1\n1,1,5,.,0\n".as_bytes(),
        Path::new("noage.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    let d = bind(&unused, &l.dataset, TimeUnit::Days).unwrap();
    let p = predicted(&unused, &d.subjects[0]);
    assert_relative_eq!(
        p[0].1,
        one_cmt(1.0, 0.4, 3.0, &[(0.0, 100.0)], &[]),
        max_relative = 1e-6
    );
}

#[test]
fn outputs_are_routed_by_cmt_or_refused_with_the_line() {
    let two = "model two
param k = 0.4
param V = 3
param s = 0.1 residual
state A = 0
ddt(A) = -k * A
dose A
output conc = A / V cmt 2
output amount = A cmt 3
error conc prop(s)
error amount prop(s)
";
    let m = model(two);
    let d = bound(
        &m,
        "ID,TIME,DV,AMT,EVID,CMT\n1,0,.,90,1,1\n1,1,5,.,0,2\n1,1,60,.,0,3\n",
    );
    let names: Vec<&str> = d.subjects[0]
        .observations
        .iter()
        .map(|o| o.analyte.name())
        .collect();
    assert_eq!(names, vec!["conc", "amount"]);
    for (text, expected) in [
        (
            "ID,TIME,DV,AMT,EVID,CMT\n1,0,.,90,1,1\n1,1,5,.,0,4\n",
            "nm.csv:3: observation with CMT 4 and no DVID: no output of the model declares `cmt 4`",
        ),
        (
            "ID,TIME,DV,AMT,EVID\n1,0,.,90,1\n1,1,5,.,0\n",
            "nm.csv:3: observation without DVID or CMT, and the model has 2 outputs",
        ),
    ] {
        let l = read_csv_from(
            text.as_bytes(),
            Path::new("nm.csv"),
            &ReadOptions::default(),
        )
        .unwrap();
        let e = bind(&m, &l.dataset, TimeUnit::Days)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{e}");
    }
}

#[test]
fn hours_data_are_converted_to_a_days_model() {
    let m = model(ONE_CMT);
    let l = read_csv_from(
        "ID,TIME,DV,AMT,EVID,DUR\n1,0,.,100,1,12\n1,36,1,.,0,.\n".as_bytes(),
        Path::new("h.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    let d = bind(&m, &l.dataset, TimeUnit::Hours).unwrap();
    let s = &d.subjects[0];
    assert_eq!(s.observations[0].time, 1.5);
    assert_eq!(s.doses[0].duration, Some(0.5));
    let p = predicted(&m, s);
    assert_relative_eq!(
        p[0].1,
        one_cmt(1.5, 0.4, 3.0, &[], &[(0.0, 100.0, 0.5)]),
        max_relative = 1e-6
    );
}
