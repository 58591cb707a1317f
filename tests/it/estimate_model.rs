//! Individual fits with the built-in compiled models (`Model::load`), checked against the
//! hand-written Stein closed form of tests/estimate_support (an independent reference).

use crate::common::estimate as estimate_support;

use crate::common::stein::{stein, Stein};
use approx::assert_relative_eq;
use cartkin::data::{Covariates, Dataset};
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings, FitStatus};
use cartkin::model::{Individual, Model, Predict};
use estimate_support::subject;

const TIMES: [f64; 20] = [
    0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 14.0, 21.0, 28.0, 56.0, 84.0,
    168.0, 252.0, 365.0,
];

#[test]
fn stein2019_builtin_predicts_like_the_hand_written_closed_form() {
    let model = Model::load("stein2019").unwrap();
    let hand = Stein::new();
    assert_eq!(
        model
            .parameters()
            .iter()
            .map(|p| (&p.name, p.transform))
            .collect::<Vec<_>>(),
        hand.parameters()
            .iter()
            .map(|p| (&p.name, p.transform))
            .collect::<Vec<_>>()
    );
    let theta = [2000.0, 11.0, 50_000.0, 0.25, 0.02, 0.006, 0.3];
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    let outputs = vec![0; TIMES.len()];
    let mut a = vec![0.0; TIMES.len()];
    let mut b = vec![0.0; TIMES.len()];
    model
        .predict(&theta, &ind, &TIMES, &outputs, &mut a)
        .unwrap();
    hand.predict(&theta, &ind, &TIMES, &outputs, &mut b)
        .unwrap();
    for (x, y) in a.iter().zip(&b) {
        // Same closed form, evaluated by the model VM and by Rust directly.
        assert_relative_eq!(x, y, max_relative = 1e-13);
    }
}

#[test]
fn stein2019_builtin_recovers_noise_free_parameters_to_1e_4() {
    let model = Model::load("stein2019").unwrap();
    let truth = [2000.0, 11.0, 50_000.0, 0.25, 0.02, 0.006];
    let obs: Vec<_> = TIMES
        .iter()
        .map(|&t| (t, stein(&truth, t), false))
        .collect();
    let data = Dataset {
        source: "in-memory".into(),
        subjects: vec![subject("S1", "transgene", &obs, Some(20.0))],
        covariate_names: vec![],
    };
    let options = FitOptions {
        analytes: None,
        fixed: vec![("sigma".into(), 0.1)],
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&model, &data, &options).unwrap();
    let s = &fit.subjects[0];
    assert_eq!(s.status, FitStatus::Converged, "{}", s.reason);
    let theta = s.theta.as_ref().unwrap();
    for k in 0..6 {
        // Expected: the simulation truth (hand-written closed form).
        assert_relative_eq!(theta[k], truth[k], max_relative = 1e-4);
    }
}

#[test]
fn cd19_bcell_builtin_recovers_kexp_kdm_kkill_from_transgene_and_b_cells() {
    // Free kexp, kdM and kkill (expansion, memory decline, B-cell killing: identifiable
    // from the CAR-T peak, its terminal phase and the B-cell depletion); every other
    // parameter, residual ones included, fixed at its typical value. Data: the model's
    // own noise-free predictions at the truth (50e6 cells at day 0), transgene and B
    // cells, so the MLE is the truth; expected to 1e-4 relative.
    let model = Model::load("cd19_bcell").unwrap();
    let free = ["kexp", "kdM", "kkill"];
    let truth = [30.0, 0.03, 0.008];
    let mut theta: Vec<f64> = model.parameters().iter().map(|p| p.typical).collect();
    for (name, v) in free.iter().zip(truth) {
        theta[model.parameter_index(name).unwrap()] = v;
    }
    let times = [
        1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 14.0, 21.0, 28.0, 42.0, 56.0, 90.0, 180.0,
    ];
    let dose = cartkin::data::Dose {
        time: 0.0,
        amount: 50e6,
        target: None,
        duration: None,
        line: 0,
    };
    let cov = Covariates::default();
    let doses = [dose.clone()];
    let ind = Individual {
        doses: &doses,
        covariates: &cov,
    };
    let mut obs_all = Vec::new();
    for analyte in ["transgene", "b_cells"] {
        let k = model
            .output_index(&cartkin::data::Analyte::new(analyte))
            .unwrap();
        let mut out = vec![0.0; times.len()];
        model
            .predict(&theta, &ind, &times, &vec![k; times.len()], &mut out)
            .unwrap();
        assert!(out.iter().all(|v| *v > 0.0), "{analyte}: {out:?}");
        let obs: Vec<_> = times
            .iter()
            .zip(&out)
            .map(|(&t, &v)| (t, v, false))
            .collect();
        obs_all.push(subject("C1", analyte, &obs, None));
    }
    let mut subj = obs_all.remove(0);
    subj.observations.extend(obs_all.remove(0).observations);
    subj.doses = vec![dose];
    let data = Dataset {
        source: "in-memory".into(),
        subjects: vec![subj],
        covariate_names: vec![],
    };
    let fixed: Vec<(String, f64)> = model
        .parameters()
        .iter()
        .filter(|p| !p.fixed && !free.contains(&p.name.as_str()))
        .map(|p| (p.name.clone(), p.typical))
        .collect();
    let options = FitOptions {
        analytes: Some(vec![
            cartkin::data::Analyte::new("transgene"),
            cartkin::data::Analyte::new("b_cells"),
        ]),
        fixed,
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&model, &data, &options).unwrap();
    let s = &fit.subjects[0];
    assert_eq!(s.records.len(), 2 * times.len());
    assert_eq!(s.status, FitStatus::Converged, "{}", s.reason);
    let est = s.theta.as_ref().unwrap();
    for (name, v) in free.iter().zip(truth) {
        let i = model.parameter_index(name).unwrap();
        assert_relative_eq!(est[i], v, max_relative = 1e-4);
    }
    println!("cd19_bcell: {} evaluations", s.evaluations);
}
