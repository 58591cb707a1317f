//! Replicate trials: each enrolled patient is a virtual subject of the scenario's model,
//! simulated at the dose the rules assign, with a DLT drawn from its probability.
//!
//! Random streams: patient slot s (0-based order of enrolment) of trial r uses the
//! subject stream ChaCha12(seed) number r·S + s ([`crate::simulate::population::subject_rng`]),
//! S the most patients a trial can enrol (6 per level for 3+3, `max_n` for BOIN). The
//! first draw is the DLT uniform u (DLT when u < P), then the subject (covariates, η) as
//! in `cartkin simulate`. A trial's results therefore depend only on the seed and r:
//! trials run in parallel (rayon) and are collected in order, so the results are the
//! same bytes for any thread count, and any range of trials can be run apart (shards).

use rand::Rng;
use rand_chacha::ChaCha12Rng;
use rayon::prelude::*;

use super::design::{run_three_plus_three, ThreePlusThree, TrialRecord};
use super::settings::{Rule, TrialSettings};
use super::toxicity::{Link, Toxicity};
use super::TrialError;
use crate::data::Analyte;
use crate::model::Predict;
use crate::simulate::design::{daily_grid, ValidDesign, Variability};
use crate::simulate::population::{subject_rng, VirtualSubject};
use crate::simulate::run::predict_subject;
use crate::simulate::SimulationDesign;

/// One treated patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    /// Enrolment order within the trial (0-based).
    pub slot: usize,
    /// Dose level (0-based).
    pub level: usize,
    /// The link's exposure metric (none for fixed probabilities or a zero slope).
    pub exposure: Option<f64>,
    /// The patient's DLT probability.
    pub p_dlt: f64,
    /// Whether the patient had a DLT.
    pub dlt: bool,
}

/// One simulated trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialResult {
    /// Trial index (0-based).
    pub index: usize,
    /// Selection, counts, early stop.
    pub record: TrialRecord,
    /// The patients in enrolment order.
    pub patients: Vec<Patient>,
}

/// What the replicate trials need: the rules, the dose levels, the model and, for an
/// exposure link, the design that simulates the DLT window.
pub struct TrialPlan<'a> {
    model: &'a dyn Predict,
    /// The checked settings.
    pub settings: TrialSettings,
    /// The dose levels (cells or cells/kg, as in the scenario).
    pub doses: Vec<f64>,
    /// The scenario's design (every output it lists, its schedule), one subject per level.
    pub design: ValidDesign,
    window: Option<WindowDesign>,
    seed: u64,
}

struct WindowDesign {
    design: ValidDesign,
    times: Vec<f64>,
    outputs: Vec<usize>,
    link: Link,
}

impl<'a> TrialPlan<'a> {
    /// A plan from the scenario's design (`cartkin::simulate::scenario`, one subject per
    /// level) and the checked trial settings. The design must draw subjects (not the
    /// typical subject) without residual error.
    pub fn new(
        model: &'a dyn Predict,
        design: SimulationDesign,
        settings: TrialSettings,
    ) -> Result<Self, TrialError> {
        let seed = design.seed;
        let doses: Vec<f64> = design.doses.iter().map(|d| d.dose).collect();
        if let Toxicity::Fixed(p) = &settings.toxicity {
            if p.len() != doses.len() {
                return Err(TrialError::setting(
                    "[toxicity] p_dlt",
                    format!("{p:?}"),
                    format!("one probability per dose level ({})", doses.len()),
                ));
            }
        }
        let window = match &settings.toxicity {
            Toxicity::Logistic(link) if link.slope != 0.0 => {
                let mut w = design.clone();
                w.times = daily_grid(settings.dlt_window_days);
                w.analytes = vec![link.analyte.clone()];
                w.residual_error = false;
                let w = w.check(model).map_err(|e| {
                    TrialError::setting(
                        "[toxicity] analyte",
                        &link.analyte,
                        format!("an output of the model ({e})"),
                    )
                })?;
                let n_out = w.outputs.len();
                let times = w
                    .design
                    .times
                    .iter()
                    .flat_map(|&t| std::iter::repeat_n(t, n_out))
                    .collect();
                let outputs = (0..w.design.times.len())
                    .flat_map(|_| w.outputs.iter().copied())
                    .collect();
                Some(WindowDesign {
                    design: w,
                    times,
                    outputs,
                    link: link.clone(),
                })
            }
            Toxicity::Logistic(link) => {
                if model.output_index(&Analyte::new(&link.analyte)).is_none() {
                    return Err(TrialError::setting(
                        "[toxicity] analyte",
                        &link.analyte,
                        "an output of the model",
                    ));
                }
                None
            }
            Toxicity::Fixed(_) => None,
        };
        let design = design.check(model)?;
        if design.design.variability == Variability::Typical || design.design.residual_error {
            return Err(TrialError::setting(
                "trial design",
                "typical subject or residual error",
                "virtual subjects drawn from the population, without residual error",
            ));
        }
        Ok(TrialPlan {
            model,
            settings,
            doses,
            design,
            window,
            seed,
        })
    }

    /// The model.
    pub fn model(&self) -> &dyn Predict {
        self.model
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Patient slots per trial: the most patients one trial can enrol.
    pub fn slots(&self) -> usize {
        match &self.settings.rule {
            Rule::ThreePlusThree => ThreePlusThree::max_patients(self.doses.len()),
            Rule::Boin(b) => b.max_n,
        }
    }

    /// The global subject index (random stream number) of a patient slot of a trial.
    pub fn stream(&self, trial: usize, slot: usize) -> usize {
        trial * self.slots() + slot
    }

    /// The random stream of a patient and its DLT uniform (the stream's first draw).
    fn patient_rng(&self, trial: usize, slot: usize) -> (ChaCha12Rng, f64) {
        let mut rng = subject_rng(self.seed, self.stream(trial, slot));
        let u: f64 = rng.random();
        (rng, u)
    }

    /// The virtual subject of a patient slot (drawn after the DLT uniform).
    pub fn subject(&self, trial: usize, slot: usize) -> VirtualSubject {
        let (mut rng, _) = self.patient_rng(trial, slot);
        self.design
            .population
            .draw(self.stream(trial, slot), &mut rng)
    }

    /// Treat the patient of `slot` of `trial` at `level`.
    pub fn treat(&self, trial: usize, slot: usize, level: usize) -> Result<Patient, TrialError> {
        let (mut rng, u) = self.patient_rng(trial, slot);
        let (p_dlt, exposure) = match (&self.settings.toxicity, &self.window) {
            (Toxicity::Fixed(p), _) => (p[level], None),
            (Toxicity::Logistic(_), Some(w)) => {
                let subject = w.design.population.draw(self.stream(trial, slot), &mut rng);
                let s =
                    predict_subject(self.model, &w.design, subject, level, &w.times, &w.outputs)?;
                let m = w.link.metric.of_daily(&s.values);
                (w.link.probability(m), Some(m))
            }
            (Toxicity::Logistic(link), None) => (link.probability(1.0), None),
        };
        Ok(Patient {
            slot,
            level,
            exposure,
            p_dlt,
            dlt: u < p_dlt,
        })
    }

    /// Run trial number `index`.
    pub fn run_trial(&self, index: usize) -> Result<TrialResult, TrialError> {
        let mut patients: Vec<Patient> = Vec::new();
        let levels = self.doses.len();
        let start = self.settings.start;
        let mut cohort = |level: usize, count: usize| -> Result<usize, TrialError> {
            let mut dlts = 0;
            for _ in 0..count {
                let p = self.treat(index, patients.len(), level)?;
                dlts += usize::from(p.dlt);
                patients.push(p);
            }
            Ok(dlts)
        };
        let record = match &self.settings.rule {
            Rule::ThreePlusThree => run_three_plus_three(levels, start, &mut cohort)?,
            Rule::Boin(b) => b.run(levels, start, &mut cohort)?,
        };
        Ok(TrialResult {
            index,
            record,
            patients,
        })
    }

    /// Run trials `first..first + reps` in parallel (rayon), results in trial order.
    pub fn run(&self, first: usize, reps: usize) -> Result<Vec<TrialResult>, TrialError> {
        let results: Vec<Result<TrialResult, TrialError>> = (first..first + reps)
            .into_par_iter()
            .map(|r| self.run_trial(r))
            .collect();
        results.into_iter().collect()
    }
}

/// One row of `trial.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelCharacteristics {
    /// Dose (as in the scenario).
    pub dose: f64,
    /// True DLT probability, or the mean over the level's treated patients of the
    /// link's probability (none when no patient was treated there).
    pub p_dlt: Option<f64>,
    /// Probability that the level is selected.
    pub p_select: f64,
    /// Mean patients treated at the level per trial.
    pub mean_n: f64,
    /// Mean DLTs at the level per trial.
    pub mean_dlt: f64,
}

/// Operating characteristics over trials (or exact).
#[derive(Debug, Clone, PartialEq)]
pub struct OperatingCharacteristics {
    /// One entry per dose level.
    pub levels: Vec<LevelCharacteristics>,
    /// Probability that no MTD is selected.
    pub p_none: f64,
    /// Trials simulated (none: exact).
    pub trials: Option<usize>,
}

/// The operating characteristics of simulated trials (sums in trial order).
pub fn characteristics(
    doses: &[f64],
    toxicity: &Toxicity,
    results: &[TrialResult],
) -> OperatingCharacteristics {
    let reps = results.len().max(1) as f64;
    let levels = doses
        .iter()
        .enumerate()
        .map(|(l, &dose)| {
            let selected = results
                .iter()
                .filter(|r| r.record.selected == Some(l))
                .count();
            let n: usize = results.iter().map(|r| r.record.n[l]).sum();
            let dlt: usize = results.iter().map(|r| r.record.dlt[l]).sum();
            let p_dlt = match toxicity {
                Toxicity::Fixed(p) => Some(p[l]),
                Toxicity::Logistic(_) => {
                    let (mut sum, mut count) = (0.0, 0usize);
                    for p in results
                        .iter()
                        .flat_map(|r| &r.patients)
                        .filter(|p| p.level == l)
                    {
                        sum += p.p_dlt;
                        count += 1;
                    }
                    (count > 0).then(|| sum / count as f64)
                }
            };
            LevelCharacteristics {
                dose,
                p_dlt,
                p_select: selected as f64 / reps,
                mean_n: n as f64 / reps,
                mean_dlt: dlt as f64 / reps,
            }
        })
        .collect();
    let none = results
        .iter()
        .filter(|r| r.record.selected.is_none())
        .count();
    OperatingCharacteristics {
        levels,
        p_none: none as f64 / reps,
        trials: Some(results.len()),
    }
}
