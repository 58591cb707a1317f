//! Population (nonlinear mixed-effects) estimation: the population model θ/Ω/σ and its
//! packing ([`model`]), one subject's conditional objective and EBE ([`ebe`]), the
//! population objective over subjects ([`objective`]), the FOCE-I/Laplacian outer
//! optimiser ([`foce`]), the covariance step ([`covariance`]), diagnostics (CWRES, NPDE,
//! shrinkage; [`diagnostics`]), the whole fit ([`fit`]) and its tables ([`tables`])
//! (method `foce`; comparable with NONMEM METHOD=1 INTER, and LAPLACIAN when
//! records are censored). Method `saem` (Monolix's SAEM) is in [`saem`].
//!
//! The pieces are separate so other solvers (e.g. SAEM) reuse the model, the EBEs, the
//! objective, the covariance step, the diagnostics and the tables: an algorithm takes a
//! [`objective::PopulationProblem`] and returns packed parameters; progress goes to an
//! observer.

pub mod covariance;
pub mod diagnostics;
pub mod ebe;
pub mod fit;
pub mod foce;
pub mod foce_gradient;
pub mod model;
pub mod objective;
pub mod saem;
pub mod tables;

pub use covariance::{CovarianceKind, PopulationUncertainty};
pub use ebe::{Approximation, Conditional, Contribution, Mode};
pub use fit::{fit_population, population_problem, PopulationFit, PopulationOptions};
pub use foce::{minimise, FoceSettings, Iteration, OuterResult};
pub use model::{PopulationError, PopulationModel, PopulationValues};
pub use objective::{Evaluation, PopulationProblem, SubjectRecords};
