//! Which slice of a run this process computes: `--shard i/N`, `--shard slurm` (from the
//! environment of a Slurm job array task) or `--shard auto` (Slurm when inside an array
//! task, else the whole run).
//!
//! Slurm sets, in each task of `sbatch --array=MIN-MAX`:
//! `SLURM_ARRAY_TASK_ID` (this task), `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_MAX` and
//! `SLURM_ARRAY_TASK_COUNT` (Slurm documentation, "Job Array Support"). For a contiguous
//! array the shard is i = ID − MIN + 1 of N = MAX − MIN + 1, and COUNT, when set, must
//! equal N; arrays with a step (`1-7:2`) or a list (`1,4,9`) are refused, because their
//! task ids do not number the shards 1..N.

use std::fmt;
use std::str::FromStr;

use crate::simulate::Shard;

/// How the shard of a run is chosen, as written after `--shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `i/N`: the i-th of N slices.
    Fixed(Shard),
    /// `slurm`: from the Slurm array-task environment; an error outside an array task.
    Slurm,
    /// `auto`: from Slurm inside an array task, else the whole run.
    Auto,
}

/// A `--shard` value or a Slurm environment that cannot give a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// The `--shard` text is none of the accepted forms.
    #[error("--shard {value:?}: expected i/N with whole numbers 1 <= i <= N, `slurm` or `auto`")]
    Syntax {
        /// The text given.
        value: String,
    },
    /// `--shard slurm` outside a Slurm job array task.
    #[error("--shard slurm: SLURM_ARRAY_TASK_ID is not set; run inside a Slurm job array (sbatch --array=1-N), or use --shard i/N")]
    NotInArray,
    /// A Slurm variable that is not a whole number.
    #[error("--shard slurm: {name}={value:?} is not a whole number")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// Slurm variables that contradict each other or do not number shards 1..N.
    #[error("--shard slurm: {0}")]
    Inconsistent(String),
}

impl FromStr for ShardSpec {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "slurm" => Ok(ShardSpec::Slurm),
            "auto" => Ok(ShardSpec::Auto),
            other => other
                .parse::<Shard>()
                .map(ShardSpec::Fixed)
                .map_err(|_| ShardError::Syntax {
                    value: s.to_string(),
                }),
        }
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardSpec::Fixed(s) => write!(f, "{}/{}", s.index, s.count),
            ShardSpec::Slurm => f.write_str("slurm"),
            ShardSpec::Auto => f.write_str("auto"),
        }
    }
}

impl ShardSpec {
    /// The shard this process computes (`None`: the whole run), reading the Slurm
    /// variables through `env` (e.g. `|k| std::env::var(k).ok()`).
    pub fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, ShardError> {
        match self {
            ShardSpec::Fixed(s) => Ok(Some(s)),
            ShardSpec::Slurm => slurm_shard(&env).map(Some),
            ShardSpec::Auto => match env("SLURM_ARRAY_TASK_ID") {
                Some(_) => slurm_shard(&env).map(Some),
                None => Ok(None),
            },
        }
    }

    /// [`ShardSpec::resolve`] with the process environment.
    pub fn resolve_from_process(self) -> Result<Option<Shard>, ShardError> {
        self.resolve(|k| std::env::var(k).ok())
    }
}

/// The shard of a Slurm array task (see the module header).
fn slurm_shard(env: &impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
    let number = |name: &'static str| -> Result<Option<u64>, ShardError> {
        match env(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ShardError::NotANumber { name, value: v }),
        }
    };
    let id = number("SLURM_ARRAY_TASK_ID")?.ok_or(ShardError::NotInArray)?;
    let min = number("SLURM_ARRAY_TASK_MIN")?;
    let max = number("SLURM_ARRAY_TASK_MAX")?;
    let count = number("SLURM_ARRAY_TASK_COUNT")?;
    let (min, n) = match (min, max, count) {
        (Some(lo), Some(hi), c) => {
            if hi < lo {
                return Err(ShardError::Inconsistent(format!(
                    "SLURM_ARRAY_TASK_MAX={hi} is below SLURM_ARRAY_TASK_MIN={lo}"
                )));
            }
            let n = hi - lo + 1;
            if let Some(c) = c {
                if c != n {
                    return Err(ShardError::Inconsistent(format!(
                        "SLURM_ARRAY_TASK_COUNT={c} but MIN={lo} and MAX={hi} span {n} tasks: \
                         use a contiguous array without a step (--array=1-N)"
                    )));
                }
            }
            (lo, n)
        }
        // Only the count: tasks are numbered 1..=COUNT (sbatch --array=1-N).
        (None, None, Some(c)) => (1, c),
        _ => {
            return Err(ShardError::Inconsistent(
                "expected SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX, or SLURM_ARRAY_TASK_COUNT, beside SLURM_ARRAY_TASK_ID".into(),
            ))
        }
    };
    if id < min || id - min >= n {
        return Err(ShardError::Inconsistent(format!(
            "SLURM_ARRAY_TASK_ID={id} is outside the array {min}-{}",
            min + n - 1
        )));
    }
    let index = usize::try_from(id - min + 1)
        .map_err(|_| ShardError::Inconsistent(format!("SLURM_ARRAY_TASK_ID={id} too large")))?;
    let count = usize::try_from(n)
        .map_err(|_| ShardError::Inconsistent(format!("array of {n} tasks too large")))?;
    Ok(Shard { index, count })
}
