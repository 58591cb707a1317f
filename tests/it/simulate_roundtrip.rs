//! simulate → fit round trip: stein2019 subjects simulated with residual error (σ = 0.1
//! on the log scale, "modest noise"), written with `--as-dataset`'s writer, read back by
//! the data layer and fitted one by one (`cartkin::estimate::fit_individuals`) recover
//! the simulated typical values.
//!
//! Design: 20 subjects at 50e6 cells on cartkin's design visit schedule, no
//! between-subject variability (an empty full Ω), so every subject's true parameters are
//! the typical ones (Stein et al. 2019); σ fixed at its true value in the fit.
//!
//! Tolerance on |log(median estimate / true)| per parameter: 4 standard errors of the
//! median, 4·1.2533·SD/√20, with SD the spread of the log estimates over the 20 fits in
//! this design (printed by the test: foldx 0.22 — the rise is seen at days 1, 4 and 7
//! only, day 0 being below the LLOQ —, tmax 0.019, cmax 0.070, alpha 0.049, fb 0.14,
//! beta 0.16), rounded up: foldx 0.25, tmax 0.025, cmax 0.08, alpha 0.06, fb 0.16,
//! beta 0.18. At least 19 of the 20 fits must reach an optimum.

use cartkin::data::{read_csv_from, write_csv, ReadOptions};
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings};
use cartkin::model::{Model, Predict};
use cartkin::simulate::dataset::to_dataset;
use cartkin::simulate::{simulate, DoseLevel, Omega, SimulationDesign, Variability};

#[test]
fn individual_fits_of_simulated_subjects_recover_the_typical_values() {
    let model = Model::load("stein2019").unwrap();
    let design = SimulationDesign {
        doses: vec![DoseLevel { dose: 50e6, n: 20 }],
        times: vec![
            0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 56.0, 84.0, 168.0, 252.0, 365.0,
        ],
        parameters: vec![("sigma".into(), 0.1)],
        variability: Variability::Population(Omega::Full {
            parameters: vec![],
            matrix: vec![],
        }),
        residual_error: true,
        seed: 20261123,
        ..SimulationDesign::default()
    }
    .check(&model)
    .unwrap();
    let sim = simulate(&model, &design, &|_| {}).unwrap();
    let mut csv = Vec::new();
    write_csv(&to_dataset(&design, &sim), &mut csv).unwrap();
    let loaded = read_csv_from(
        csv.as_slice(),
        std::path::Path::new("simulated.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let data = loaded.dataset;
    assert_eq!(data.subjects.len(), 20);
    // day 0 (24000/3900 = 6.2 copies/ug) is below the LLOQ of 20 in every subject
    assert!(data.subjects.iter().all(|s| s.observations[0].censored));

    let options = FitOptions {
        analytes: None,
        fixed: vec![("sigma".into(), 0.1)],
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&model, &data, &options).unwrap();
    let names = ["foldx", "tmax", "cmax", "alpha", "fb", "beta"];
    let tolerance = [0.25, 0.025, 0.08, 0.06, 0.16, 0.18];
    let converged: Vec<&Vec<f64>> = fit
        .subjects
        .iter()
        .filter(|s| s.status.optimum_reached())
        .filter_map(|s| s.theta.as_ref())
        .collect();
    assert!(converged.len() >= 19, "{} of 20 converged", converged.len());
    for (name, tol) in names.iter().zip(tolerance) {
        let i = model.parameter_index(name).unwrap();
        let truth = model.parameters()[i].typical;
        let mut est: Vec<f64> = converged.iter().map(|t| t[i]).collect();
        est.sort_by(f64::total_cmp);
        let n = est.len();
        let median = if n % 2 == 1 {
            est[n / 2]
        } else {
            0.5 * (est[n / 2 - 1] + est[n / 2])
        };
        let err = (median / truth).ln().abs();
        let logs: Vec<f64> = est.iter().map(|x| x.ln()).collect();
        let mean = logs.iter().sum::<f64>() / n as f64;
        let sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        eprintln!(
            "{name}: median {median} true {truth} |log ratio| {err:.4} (tolerance {tol}); \
             SD of log estimates {sd:.4}, SE of the median ~ {:.4}",
            1.2533 * sd / (n as f64).sqrt()
        );
        assert!(err < tol, "{name}: median estimate {median}, true {truth}");
    }
}
