//! Longitudinal CAR-T data: the long CSV format of SPEC §2 (one row per record,
//! NONMEM/Monolix column names or friendly aliases), its validation, and the domain
//! types the rest of cartkin works on.

mod types;

pub use types::{Analyte, CovariateValue, Covariates, Dataset, Dose, Observation, Subject};
