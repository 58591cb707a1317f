//! cartkin integration tests: one test crate (one binary to build and link), a module
//! per area. Shared helpers — the binary runner, the Stein closed form, mock models,
//! reference problems — live in [`common`].

mod common;

mod cli_check;
mod cli_fit;
mod cli_general;
mod cli_nca;
mod cli_simulate;
mod cluster_slurm;
mod data_example;
mod data_proptest;
mod data_roundtrip;
mod data_validation;
mod estimate_covariance;
mod estimate_gradient;
mod estimate_likelihood;
mod estimate_model;
mod estimate_stein;
mod library_cd19;
mod library_lisocel;
mod library_reference;
mod library_singh;
mod library_stein;
mod model_cli;
mod model_depth;
mod model_errors;
mod model_jit;
mod model_language;
mod model_solve;
mod nca_bcell;
mod nca_hand;
mod nca_peer;
mod nca_props;
mod nca_stein;
mod simulate_from_fit;
mod simulate_identity;
mod simulate_population;
mod simulate_roundtrip;
mod simulate_scenarios;
mod simulate_stream;
mod solve_alloc;
mod solve_dopri5;
mod solve_harness;
mod solve_rodas4;
