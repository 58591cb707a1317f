//! Models: the editable model-file format, the expression language and the built-in
//! CAR-T model library (docs/model-language.md; each model file cites its sources).
//!
//! A model file (format in docs/model-language.md) is tokenized (`lexer`), parsed (`parser`)
//! into statements (`ast`), checked (`resolve`: names, levels, lets in order), lowered
//! into flat slot programs (`compile`, `vm`) and wrapped as a [`Model`] that implements
//! [`Predict`] (`predict`: closed form, or ODE segments between stops, doses, infusion
//! ends and covariate changes); [`bind`] fits a dataset to a model (outputs, time
//! unit, covariates); the
//! programs run as native code compiled with Cranelift (`jit`), the interpreter being
//! the fallback and the reference.
//!
//! Dependencies run one way: `model` (the driver) → `compile` (owns the compiled
//! `Code`; its routines hold a `vm::Program` and, beside it, `jit` native code) → `jit`
//! → `vm`; `predict` → `model`, `compile`, `workspace`.
//!
//! NONMEM datasets (the full grammar is in docs/model-language.md):
//!
//! - `time_unit hours|days` (default `days`): the unit of `t`, of rate constants and
//!   clearances, and of the times in every output. Data in another unit are converted
//!   when bound to the model ([`bind`]).
//! - `dose STATE [scale EXPR] [cmt N]`: the state receives the doses of data
//!   compartment `CMT` = N. A dose record's `CMT` is looked up among these first, then
//!   taken as the N-th state in declaration order (`state` lines), then as a state name;
//!   a record without `CMT` doses the state of the first `dose` line. `RATE`/`DUR`
//!   records are zero-order infusions: amount·scale/duration is added to the state's
//!   derivative while they run, and the solver stops at their start and end.
//! - `output NAME = EXPR [unit ".."] [lloq X] [cmt N]`: observations of a dataset
//!   without `DVID` are routed to outputs by their `CMT` (a model with one output takes
//!   every observation).
//! - `tad` and `last_dose`: time after, and amount of, the most recent dose at or before
//!   t (as in the data, before any `scale`; doses at the same time add up; both 0 before
//!   the first dose and after a reset). They may be used in outputs and in the lets
//!   those use, and so in closed forms; not in `ddt`, initial values, stops or scales.
//!
//! **Multiple doses in a closed form.** A closed form sees only `t`, `tad` and
//! `last_dose`: `output conc = last_dose / V * exp(-k * tad)` describes the most recent
//! dose alone (exact for a single dose, and for any dosing once the earlier doses have
//! washed out). Superposing earlier doses is not automatic: write the model as ODEs
//! (`state`, `ddt`, `dose`), which handle any number of boluses, infusions, additional
//! doses and resets exactly.

mod ast;
pub mod bind;
mod compile;
mod derive;
mod error;
#[cfg(feature = "jit")]
mod jit;
#[cfg(not(feature = "jit"))]
#[path = "nojit.rs"]
mod jit;
mod lexer;
mod library;
mod linear;
#[allow(clippy::module_inception)]
mod model;
mod parser;
mod predict;
mod resolve;
mod select;
mod sensitivity;
mod spec;
mod vm;
mod workspace;

pub use error::ModelError;
pub use library::builtin_names;
pub use model::Model;
pub use predict::ModelOde;
pub use spec::{ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform};
