//! Models: the editable model-file format, the expression language and the built-in
//! CAR-T model library (SPEC §3, REFERENCES §2 and §4).

mod spec;

pub use spec::{ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform};
