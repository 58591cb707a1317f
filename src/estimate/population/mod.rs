//! Population (nonlinear mixed-effects) estimation: the population model θ/Ω/σ and its
//! packing ([`model`]), one subject's conditional objective and EBE ([`ebe`]), the
//! population objective over subjects ([`objective`]) and the FOCE-I/Laplacian outer
//! optimiser ([`foce`]) (SPEC §5, method `foce`; comparable with NONMEM METHOD=1 INTER,
//! and LAPLACIAN when records are censored).
//!
//! The pieces are separate so other solvers (e.g. SAEM) reuse the model, the EBEs and the
//! objective: an algorithm takes a [`objective::PopulationProblem`] and returns packed
//! parameters; progress goes to an observer.

pub mod covariance;
pub mod ebe;
pub mod foce;
pub mod model;
pub mod objective;

pub use ebe::{Approximation, Conditional, Contribution, Mode};
pub use foce::{minimise, FoceSettings, Iteration, OuterResult};
pub use model::{PopulationError, PopulationModel, PopulationValues};
pub use objective::{Evaluation, PopulationProblem, SubjectRecords};
