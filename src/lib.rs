//! # cartkin
//!
//! Cellular kinetics (PK) and pharmacodynamics (PD) of CAR-T cell therapies.
//!
//! The crate is organised along the path of an analysis:
//!
//! | module | role |
//! |---|---|
//! | [`data`] | long-format CSV in and out, validation, the domain types `Dataset`, `Subject`, `Observation`, `Dose` |
//! | [`model`] | model files (an editable text format), the expression language, the built-in library |
//! | [`solve`] | ODE integration (explicit and stiff), stops at doses and declared discontinuities |
//! | [`estimate`] | likelihood with Beal M3 censoring, individual and population estimation |
//! | [`nca`] | non-compartmental analysis and B-cell / immunoglobulin endpoints |
//! | [`simulate`] | virtual populations, dose levels and trial scenarios; the visual predictive check |
//! | [`bootstrap`] | nonparametric bootstrap of a fit (resampled subjects, refits, percentile intervals) |
//! | [`cluster`] | shards of a run, Slurm job arrays and their merge |
//! | [`trial`] | dose-escalation trials (3+3, BOIN) driven by simulated exposure |
//! | [`report`] | output directories, atomic file writes, tables and plots |
//! | [`rng`] | the per-subject random stream |

pub mod bootstrap;
pub mod cluster;
pub mod data;
pub mod estimate;
pub mod model;
pub mod nca;
pub mod report;
pub mod rng;
pub mod simulate;
pub mod solve;
pub mod trial;

// The `cartkin` command line is the binary crate (`src/main.rs`, `src/cli/`): the library
// needs neither clap nor indicatif.
