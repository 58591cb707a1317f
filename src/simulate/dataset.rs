//! Simulated observations as a [`Dataset`] in the input format (`--as-dataset`), so
//! that `cartkin simulate … --as-dataset` followed by `cartkin fit` is a round trip.
//!
//! Per subject (ID = the simulation id): one dose record (time 0, AMT = cells infused),
//! one observation per simulated analyte × time (censored ones with the LLOQ as value,
//! CENS = 1, LLOQ column = the analyte's LLOQ when it has one), and the covariates:
//! DOSE (cells infused) for flat doses, or DOSE_PER_KG for per-kg doses, then the drawn
//! covariates (e.g. WT).

use std::path::PathBuf;

use super::design::{DoseUnit, ValidDesign};
use super::run::{subject_covariates, Simulation};
use crate::data::{Dataset, Dose, Observation, Subject};

/// The simulated observations of `sim` (from `design`) as a dataset.
pub fn to_dataset(design: &ValidDesign, sim: &Simulation) -> Dataset {
    let mut covariate_names = vec![match design.design.dose_unit {
        DoseUnit::Total => "DOSE".to_string(),
        DoseUnit::PerKg => "DOSE_PER_KG".to_string(),
    }];
    covariate_names.extend(
        design
            .population
            .covariates()
            .iter()
            .map(|(n, _)| n.clone()),
    );
    let subjects = sim
        .subjects
        .iter()
        .map(|s| {
            let mut covariates = subject_covariates(design, s);
            if design.design.dose_unit == DoseUnit::PerKg {
                covariates.constant.remove("DOSE");
            }
            let mut observations = Vec::with_capacity(s.values.len());
            for (t, &time) in sim.times.iter().enumerate() {
                for (k, analyte) in sim.analytes.iter().enumerate() {
                    let (value, censored) = sim.value(s, t, k);
                    observations.push(Observation {
                        time,
                        analyte: analyte.clone(),
                        value,
                        censored,
                        lloq: sim.lloq[k],
                        line: 0,
                    });
                }
            }
            Subject {
                id: s.id.to_string(),
                observations,
                doses: vec![Dose {
                    time: 0.0,
                    amount: s.amount,
                    target: None,
                    duration: None,
                    line: 0,
                }],
                covariates,
            }
        })
        .collect();
    Dataset {
        source: PathBuf::new(),
        subjects,
        covariate_names,
    }
}
