//! Every built-in model against its independent reference trajectory.
//!
//! One harness for the whole library (models/*.model): each built-in model is loaded
//! with `Model::load(name)`, predicted at the times of `models/reference/<name>.csv` with
//! the dose the reference was made with and the typical parameters, and every output is
//! checked with the weighted norm
//!
//!   |cartkin − reference| ≤ atol_k + rtol·|reference|,   atol_k = atol_frac · max_t |reference_k|
//!
//! (atol as a fraction of each output's peak, because outputs of one model differ by
//! orders of magnitude: cells/µL, g/L, copies/µg). The references were computed without
//! cartkin by scripts/make_references.py (closed forms in NumPy; the ODE models with
//! SciPy's Radau at rtol 1e-10); see models/reference/README.md. The tolerances per
//! model, and why, are in [`CASES`].

use crate::common::library as library_common;

use cartkin::data::Analyte;
use cartkin::model::{builtin_names, Predict};
use library_common::{load, predict_all, read_reference, reference_path, typical};

/// One built-in model and how it is checked.
struct Case {
    name: &'static str,
    /// Bolus at t = 0 (total cells, or mg for PK); `None` when the model has no dose.
    dose: Option<f64>,
    rtol: f64,
    atol_frac: f64,
    /// Why these tolerances.
    why: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "stein2019",
        dose: None,
        rtol: 1e-12,
        atol_frac: 0.0,
        why: "closed form evaluated directly: equal to the NumPy closed form up to rounding \
              in exp of arguments up to ~60 (~1e-14)",
    },
    Case {
        name: "stein2019_ode",
        dose: None,
        rtol: 1e-8,
        atol_frac: 0.0,
        why: "Dopri5 at the file's rtol 1e-9 / atol 1e-9 over 365 days against the exact \
              solution (measured worst 2.3e-9 relative, day 35); E+M >= 6 copies/ug, so a \
              relative test alone is meaningful",
    },
    Case {
        name: "lisocel2021",
        dose: None,
        rtol: 1e-12,
        atol_frac: 0.0,
        why: "closed form evaluated directly (see stein2019)",
    },
    Case {
        name: "pk_1cmt_iv",
        dose: Some(320.0),
        rtol: 1e-5,
        atol_frac: 1e-8,
        why: "Dopri5 at the default rtol 1e-6 / atol 1e-9 against the closed form (measured \
              worst 8e-7 relative); the concentration falls by ~1e12 over 14 days, so values \
              below 1e-8 of the peak are judged by the absolute term",
    },
    Case {
        name: "pk_1cmt_oral",
        dose: Some(320.0),
        rtol: 1e-5,
        atol_frac: 1e-8,
        why: "as pk_1cmt_iv",
    },
    Case {
        name: "cd19_bcell",
        dose: Some(50e6),
        rtol: 1e-6,
        atol_frac: 1e-8,
        why: "Dopri5 at the file's rtol 1e-8 / atol 1e-10 against SciPy Radau rtol 1e-10 \
              (peer, ~1e-8 accurate); measured worst 1.8e-8 relative (transgene, day 4.5, \
              in the exponential expansion, which amplifies local errors): 50x margin",
    },
    Case {
        name: "cd19_cd20_bcell",
        dose: Some(300e6),
        rtol: 1e-6,
        atol_frac: 1e-8,
        why: "as cd19_bcell",
    },
    Case {
        name: "singh2021",
        dose: Some(450e6),
        rtol: 1e-4,
        atol_frac: 1e-9,
        why: "Rodas4 at the file's rtol 1e-6 / atol 1e-6 against SciPy Radau rtol 1e-10 \
              (per-state atol); measured worst 1.2e-5 relative (sBCMA % change, small \
              values) with rtol 1e-4, 8x margin; M-protein and sBCMA are percent changes \
              from 0 at t = 0, judged by the absolute term (1e-9 of the peak |change|)",
    },
];

#[test]
fn every_builtin_model_has_a_reference_case() {
    let mut names: Vec<&str> = builtin_names().to_vec();
    names.sort_unstable();
    let mut cased: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    cased.sort_unstable();
    assert_eq!(names, cased, "every built-in model needs a reference case");
    for c in CASES {
        assert!(
            reference_path(c.name).is_file(),
            "missing reference {}",
            reference_path(c.name).display()
        );
    }
}

fn check_case(case: &Case) {
    let model = load(case.name);
    let reference = read_reference(case.name);
    // the reference covers exactly the model's outputs, in the same order
    let model_outputs: Vec<Analyte> = model.outputs().iter().map(|o| o.analyte.clone()).collect();
    let ref_outputs: Vec<Analyte> = reference.outputs.iter().map(|s| Analyte::new(s)).collect();
    assert_eq!(
        model_outputs, ref_outputs,
        "{}: model outputs differ from the reference columns",
        case.name
    );
    let got = predict_all(&model, case.dose, &typical(&model), &reference.times);
    let mut worst = (0.0_f64, String::new());
    for (k, (g, r)) in got.iter().zip(&reference.values).enumerate() {
        let peak = r.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let atol = case.atol_frac * peak;
        for (i, (&gi, &ri)) in g.iter().zip(r).enumerate() {
            let bound = atol + case.rtol * ri.abs();
            let err = (gi - ri).abs();
            let ratio = if bound > 0.0 { err / bound } else { err };
            assert!(
                err <= bound,
                "{} output {} at t = {}: cartkin {gi:e}, reference {ri:e}, |err| {err:e} > \
                 atol {atol:e} + rtol {} * |ref| (tolerances: {})",
                case.name,
                reference.outputs[k],
                reference.times[i],
                case.rtol,
                case.why
            );
            if ratio > worst.0 {
                worst = (
                    ratio,
                    format!("{} at t = {}", reference.outputs[k], reference.times[i]),
                );
            }
        }
    }
    eprintln!(
        "{}: worst |err|/(atol + rtol|ref|) = {:.3e} ({})",
        case.name, worst.0, worst.1
    );
}

fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

#[test]
fn stein2019_matches_reference() {
    check_case(case("stein2019"));
}

#[test]
fn stein2019_ode_matches_reference() {
    check_case(case("stein2019_ode"));
}

#[test]
fn lisocel2021_matches_reference() {
    check_case(case("lisocel2021"));
}

#[test]
fn pk_1cmt_iv_matches_reference() {
    check_case(case("pk_1cmt_iv"));
}

#[test]
fn pk_1cmt_oral_matches_reference() {
    check_case(case("pk_1cmt_oral"));
}

#[test]
fn cd19_bcell_matches_reference() {
    check_case(case("cd19_bcell"));
}

#[test]
fn cd19_cd20_bcell_matches_reference() {
    check_case(case("cd19_cd20_bcell"));
}

#[test]
fn singh2021_matches_reference() {
    check_case(case("singh2021"));
}

#[test]
fn every_parameter_has_a_unit_and_every_model_a_description_and_reference() {
    for name in builtin_names() {
        let model = load(name);
        assert_eq!(
            model.name(),
            *name,
            "file name and `model` statement differ"
        );
        // a header comment that cites the source and points to the reference trajectory
        let header: String = model
            .source()
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            header.contains("Source") && header.contains(&format!("models/reference/{name}.csv")),
            "{name}: the header comment must cite its source and its reference trajectory"
        );
        assert!(!model.description().is_empty(), "{name}: no description");
        assert!(!model.references().is_empty(), "{name}: no reference");
        for p in model.parameters() {
            assert!(
                !p.unit.is_empty(),
                "{name}: parameter {} has no unit",
                p.name
            );
            assert!(
                p.typical >= p.lower && p.typical <= p.upper,
                "{name}: parameter {} = {} outside its bounds [{}, {}]",
                p.name,
                p.typical,
                p.lower,
                p.upper
            );
        }
        for o in model.outputs() {
            assert!(
                !o.unit.is_empty(),
                "{name}: output {} has no unit",
                o.analyte.name()
            );
        }
    }
}

/// Every model solves, finitely and without going negative, for an individual 3 standard
/// deviations of the random effect away from the typical value on every parameter with
/// between-subject variability (one parameter at a time, both directions), over the
/// reference grid and dose. Populations are simulated from exactly such draws.
#[test]
fn every_model_solves_at_three_sd_of_each_random_effect() {
    for case in CASES {
        let model = load(case.name);
        let reference = read_reference(case.name);
        let base = typical(&model);
        for (i, p) in model.parameters().iter().enumerate() {
            let Some(omega2) = p.omega2 else { continue };
            for sign in [-3.0, 3.0] {
                let mut theta = base.clone();
                theta[i] = p.to_natural(p.to_estimation(p.typical) + sign * omega2.sqrt());
                let cols =
                    library_common::try_predict_all(&model, case.dose, &theta, &reference.times)
                        .unwrap_or_else(|e| {
                            panic!("{}: {} = {} ({sign} SD): {e}", case.name, p.name, theta[i])
                        });
                for (k, col) in cols.iter().enumerate() {
                    let peak = col.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                    let name = model.outputs()[k].analyte.name();
                    for (t, v) in reference.times.iter().zip(col) {
                        assert!(v.is_finite(), "{}: {name} at t = {t} not finite", case.name);
                        // percent changes from baseline may be negative; nothing else may
                        assert!(
                            name.ends_with("_pct") || *v >= -1e-9 * peak,
                            "{}: {} = {} ({sign} SD): {name} = {v} at t = {t}",
                            case.name,
                            p.name,
                            theta[i]
                        );
                    }
                }
            }
        }
    }
}
