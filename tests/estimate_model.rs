//! Individual fits with the built-in compiled models (`Model::load`), checked against the
//! hand-written Stein closed form of tests/estimate_support (an independent reference).

mod estimate_support;

use approx::assert_relative_eq;
use cartkin::data::{Covariates, Dataset};
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings, FitStatus};
use cartkin::model::{Individual, Model, Predict};
use estimate_support::{subject, Stein};

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
        .map(|&t| (t, Stein::conc(&truth, t), false))
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
