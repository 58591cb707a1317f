//! A sharded run as a Slurm job array plus a merge job that waits for it.
//!
//! `cartkin simulate ... --slurm N --out OUT` writes, under `OUT/slurm/`:
//! - `array.sbatch`: an N-task array (`#SBATCH --array=1-N`); task i runs the same
//!   command with `--shard slurm --out OUT/shards/i`, so it computes shard i/N
//!   (see [`super::shard`]);
//! - `merge.sbatch`: `cartkin merge OUT/shards/1 … OUT/shards/N --out OUT`, which checks
//!   that every shard is present once and comes from the same settings;
//! - `submit.sh`: submits the array, then the merge job with
//!   `--dependency=afterok:<array job id>` (it runs only when every task succeeded).
//!
//! [`submit`] does what `submit.sh` does, with `sbatch --parsable`, and returns the job
//! ids. Paths in the scripts are absolute and every argument is single-quoted for the
//! shell, so the jobs run the same command wherever Slurm starts them; `--chdir` is the
//! directory the command was given in, so relative input paths keep their meaning.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::report::{write_atomic, OutputError};

/// A sharded command to run as a Slurm job array.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayJob {
    /// The job name (`#SBATCH --job-name`), e.g. `cartkin-simulate`.
    pub name: String,
    /// Number of array tasks, one per shard (N ≥ 1).
    pub tasks: usize,
    /// The `cartkin` executable (absolute).
    pub program: PathBuf,
    /// The subcommand and its arguments, without `--shard`, `--out`, `--force` and the
    /// Slurm options.
    pub args: Vec<String>,
    /// The working directory of every job (absolute).
    pub workdir: PathBuf,
    /// The output directory of the merged result (absolute); shards go below it.
    pub out: PathBuf,
    /// Extra `#SBATCH` options (`--slurm-opt "--partition=short --time=10"`), one
    /// option per element, as sbatch accepts them on its command line.
    pub options: Vec<String>,
}

/// The files written for an [`ArrayJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The job-array script.
    pub array: PathBuf,
    /// The merge script.
    pub merge: PathBuf,
    /// The shell script that submits both with the dependency.
    pub submit: PathBuf,
}

/// The ids Slurm gave the two jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The job array.
    pub array: String,
    /// The merge job (runs after every array task succeeded).
    pub merge: String,
}

/// Writing or submitting the scripts failed.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The job description cannot be written as scripts.
    #[error("--slurm: {0}")]
    Invalid(String),
    /// A script could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// `sbatch` could not be started.
    #[error("could not run sbatch ({0}); the scripts are in place: submit them with submit.sh")]
    Spawn(std::io::Error),
    /// `sbatch` refused a script.
    #[error("sbatch {script} failed (exit {code}): {stderr}")]
    Refused {
        /// The script submitted.
        script: String,
        /// sbatch's exit code (−1 when killed by a signal).
        code: i32,
        /// What sbatch said.
        stderr: String,
    },
}

/// Quote `s` for a POSIX shell: inside single quotes, with `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl ArrayJob {
    /// The directory of shard `i` (1-based).
    pub fn shard_dir(&self, i: usize) -> PathBuf {
        self.out.join("shards").join(i.to_string())
    }

    /// The text of `array.sbatch`.
    pub fn array_script(&self) -> String {
        let mut s = self.header(&self.name, "task_%a.log");
        s.push_str(&format!("#SBATCH --array=1-{}\n", self.tasks));
        s.push_str("\nset -euo pipefail\n");
        let mut cmd = vec![shell_quote(&self.program.to_string_lossy())];
        cmd.extend(self.args.iter().map(|a| shell_quote(a)));
        cmd.push("--shard slurm --force".into());
        cmd.push(format!(
            "--out {}/\"$SLURM_ARRAY_TASK_ID\"",
            shell_quote(&self.out.join("shards").to_string_lossy())
        ));
        s.push_str(&format!("exec {}\n", cmd.join(" ")));
        s
    }

    /// The text of `merge.sbatch`.
    pub fn merge_script(&self) -> String {
        let mut s = self.header(&format!("{}-merge", self.name), "merge.log");
        s.push_str("\nset -euo pipefail\n");
        let mut cmd = vec![shell_quote(&self.program.to_string_lossy()), "merge".into()];
        cmd.extend((1..=self.tasks).map(|i| shell_quote(&self.shard_dir(i).to_string_lossy())));
        cmd.push(format!(
            "--out {} --force",
            shell_quote(&self.out.to_string_lossy())
        ));
        s.push_str(&format!("exec {}\n", cmd.join(" ")));
        s
    }

    /// The text of `submit.sh`.
    pub fn submit_script(&self) -> String {
        let dir = shell_quote(&self.slurm_dir().to_string_lossy());
        format!(
            "#!/bin/bash\n# Submit the job array, then the merge job once every task has succeeded.\nset -euo pipefail\ncd {dir}\narray=$(sbatch --parsable array.sbatch)\narray=${{array%%;*}}\nmerge=$(sbatch --parsable --dependency=afterok:$array merge.sbatch)\necho \"submitted job array $array and merge job ${{merge%%;*}}\"\n"
        )
    }

    fn header(&self, name: &str, log: &str) -> String {
        let mut s = String::from("#!/bin/bash\n");
        s.push_str(&format!("#SBATCH --job-name={name}\n"));
        s.push_str(&format!(
            "#SBATCH --chdir={}\n",
            self.workdir.to_string_lossy()
        ));
        s.push_str(&format!(
            "#SBATCH --output={}\n",
            self.slurm_dir().join(log).to_string_lossy()
        ));
        for o in &self.options {
            s.push_str(&format!("#SBATCH {o}\n"));
        }
        s
    }

    fn slurm_dir(&self) -> PathBuf {
        self.out.join("slurm")
    }

    fn check(&self) -> Result<(), SlurmError> {
        if self.tasks == 0 {
            return Err(SlurmError::Invalid(
                "the number of tasks must be at least 1".into(),
            ));
        }
        for (what, p) in [
            ("program", &self.program),
            ("working directory", &self.workdir),
            ("output directory", &self.out),
        ] {
            if !p.is_absolute() {
                return Err(SlurmError::Invalid(format!(
                    "the {what} {} is not an absolute path",
                    p.display()
                )));
            }
            // sbatch reads `#SBATCH` lines up to the end of the line: a path with a line
            // break would end the option early.
            if p.to_string_lossy().contains(['\n', '\r']) {
                return Err(SlurmError::Invalid(format!(
                    "the {what} {} contains a line break",
                    p.display()
                )));
            }
        }
        if let Some(o) = self
            .options
            .iter()
            .find(|o| !o.starts_with('-') || o.contains(['\n', '\r']))
        {
            return Err(SlurmError::Invalid(format!(
                "--slurm-opt {o:?}: expected sbatch options such as \"--partition=short --time=30\""
            )));
        }
        Ok(())
    }

    /// Write `array.sbatch`, `merge.sbatch` and `submit.sh` under `OUT/slurm/`.
    pub fn write(&self) -> Result<Scripts, SlurmError> {
        self.check()?;
        let dir = self.slurm_dir();
        std::fs::create_dir_all(&dir).map_err(|source| OutputError::Io {
            path: dir.clone(),
            source,
        })?;
        let scripts = Scripts {
            array: dir.join("array.sbatch"),
            merge: dir.join("merge.sbatch"),
            submit: dir.join("submit.sh"),
        };
        write_atomic(&scripts.array, self.array_script().as_bytes())?;
        write_atomic(&scripts.merge, self.merge_script().as_bytes())?;
        write_atomic(&scripts.submit, self.submit_script().as_bytes())?;
        make_executable(&scripts.submit)?;
        Ok(scripts)
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), OutputError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|source| {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), OutputError> {
    Ok(())
}

/// Whether an `sbatch` program is on the `PATH`.
pub fn sbatch_available() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("sbatch").is_file()))
}

/// Submit the array, then the merge job with `--dependency=afterok:<array id>`.
pub fn submit(scripts: &Scripts) -> Result<Submitted, SlurmError> {
    let array = sbatch(&scripts.array, None)?;
    let merge = sbatch(&scripts.merge, Some(&array))?;
    Ok(Submitted { array, merge })
}

/// `sbatch --parsable [--dependency=afterok:ID] SCRIPT`; the job id it prints
/// (`id` or `id;cluster`).
fn sbatch(script: &Path, after: Option<&str>) -> Result<String, SlurmError> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if let Some(id) = after {
        cmd.arg(format!("--dependency=afterok:{id}"));
    }
    let out = cmd.arg(script).output().map_err(SlurmError::Spawn)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if !out.status.success() || id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(SlurmError::Refused {
            script: script.display().to_string(),
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(id)
}
