//! Models: the editable model-file format, the expression language and the built-in
//! CAR-T model library (docs/model-language.md; each model file cites its sources).
//!
//! A model file (format in docs/model-language.md) is tokenized (`lexer`), parsed (`parser`)
//! into statements (`ast`), checked (`resolve`: names, levels, lets in order), lowered
//! into flat slot programs (`compile`, `vm`) and wrapped as a [`Model`] that implements
//! [`Predict`] (`predict`: closed form, or ODE segments between stops and doses); the
//! programs run as native code compiled with Cranelift (`jit`), the interpreter being
//! the fallback and the reference.
//!
//! Dependencies run one way: `model` (the driver) → `compile` (owns the compiled
//! `Code`; its routines hold a `vm::Program` and, beside it, `jit` native code) → `jit`
//! → `vm`; `predict` → `model`, `compile`, `workspace`.

mod ast;
mod compile;
mod error;
#[cfg(feature = "jit")]
mod jit;
#[cfg(not(feature = "jit"))]
#[path = "nojit.rs"]
mod jit;
mod lexer;
mod library;
#[allow(clippy::module_inception)]
mod model;
mod parser;
mod predict;
mod resolve;
mod select;
mod spec;
mod vm;
mod workspace;

pub use error::ModelError;
pub use library::builtin_names;
pub use model::Model;
pub use predict::ModelOde;
pub use spec::{ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform};
