//! Beyond one machine: a run split into shards ([`shard`]: `--shard i/N|slurm|auto`),
//! run as a Slurm job array with a dependent merge job ([`slurm`]), and joined by
//! `cartkin merge` into files byte-identical to the unsharded run.

pub mod shard;
pub mod slurm;

pub use shard::{ShardError, ShardSpec};
pub use slurm::{sbatch_available, shell_quote, submit, ArrayJob, Scripts, SlurmError, Submitted};
