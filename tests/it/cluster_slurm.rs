//! Beyond one machine: `--shard slurm|auto` read from a Slurm array task's environment,
//! the job-array scripts of `--slurm N`, and a real run on a one-node Slurm cluster.
//!
//! The truth every run is held to is the unsharded run on one machine: the merged
//! `simulation.csv`, `summary.csv`, `endpoints.csv` and `endpoints_summary.csv` must be
//! byte-identical to it. The real-cluster test needs `sinfo`/`sbatch` answering with an
//! idle node (`.ci/slurm-up` starts one); where there is none it prints why it is
//! skipped, and fails instead when `CARTKIN_REQUIRE_SLURM=1` (set by CI once the cluster
//! is up).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cartkin::cluster::{ShardError, ShardSpec};
use cartkin::simulate::Shard;

use crate::common::cartkin_in;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

fn slurm(pairs: &[(&str, &str)]) -> Result<Option<Shard>, ShardError> {
    ShardSpec::Slurm.resolve(env(pairs))
}

#[test]
fn shard_from_a_slurm_array_task() {
    let s = |index, count| Ok(Some(Shard { index, count }));
    // sbatch --array=1-4, task 3
    let a = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "4"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    assert_eq!(slurm(&a), s(3, 4));
    // --array=0-9: task 0 is shard 1 of 10
    let b = [
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "9"),
    ];
    assert_eq!(slurm(&b), s(1, 10));
    // only the count: tasks 1..=COUNT
    let c = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "5"),
    ];
    assert_eq!(slurm(&c), s(2, 5));
    // auto: the same inside an array task, the whole run outside
    assert_eq!(ShardSpec::Auto.resolve(env(&a)), s(3, 4));
    assert_eq!(ShardSpec::Auto.resolve(env(&[])), Ok(None));
    // i/N is taken as given, whatever the environment
    assert_eq!(
        "2/7".parse::<ShardSpec>().unwrap().resolve(env(&a)),
        s(2, 7)
    );
}

#[test]
fn a_missing_or_inconsistent_slurm_environment_is_an_error() {
    let msg = |pairs: &[(&str, &str)]| slurm(pairs).unwrap_err().to_string();
    assert!(
        msg(&[]).contains("SLURM_ARRAY_TASK_ID is not set"),
        "{}",
        msg(&[])
    );
    let stepped = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "7"),
        ("SLURM_ARRAY_TASK_COUNT", "4"), // --array=1-7:2
    ];
    assert!(msg(&stepped).contains("contiguous"), "{}", msg(&stepped));
    let outside = [
        ("SLURM_ARRAY_TASK_ID", "9"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "4"),
    ];
    assert!(
        msg(&outside).contains("outside the array 1-4"),
        "{}",
        msg(&outside)
    );
    let text = [
        ("SLURM_ARRAY_TASK_ID", "x"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    assert!(
        msg(&text).contains("SLURM_ARRAY_TASK_ID=\"x\""),
        "{}",
        msg(&text)
    );
    let alone = [("SLURM_ARRAY_TASK_ID", "1")];
    assert!(
        msg(&alone).contains("SLURM_ARRAY_TASK_MIN"),
        "{}",
        msg(&alone)
    );
    let bad = "3/2".parse::<ShardSpec>().unwrap_err().to_string();
    assert!(bad.contains("`slurm` or `auto`"), "{bad}");
}

#[test]
fn shard_slurm_outside_slurm_fails_with_a_message_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .current_dir(dir.path())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .args(SIM)
        .args(["--shard", "slurm", "--out", "o"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("SLURM_ARRAY_TASK_ID is not set"), "{err}");
}

/// A small simulation: 9 subjects over 3 dose levels, 60 days.
const SIM: &[&str] = &[
    "simulate",
    "--model",
    "stein2019",
    "--dose",
    "1e6,1e7,1e8",
    "--n",
    "3",
    "--days",
    "60",
    "--seed",
    "11",
];

const FILES: [&str; 4] = [
    "simulation.csv",
    "summary.csv",
    "endpoints.csv",
    "endpoints_summary.csv",
];

fn ok(o: std::process::Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn single_run(dir: &Path) {
    let mut args = SIM.to_vec();
    args.extend(["--out", "single"]);
    ok(cartkin_in(dir, &args));
}

fn assert_same_as_single(dir: &Path, merged: &str) {
    for f in FILES {
        let a = std::fs::read(dir.join("single").join(f)).unwrap();
        let b = std::fs::read(dir.join(merged).join(f)).unwrap();
        assert!(a == b, "{merged}/{f} differs from the single-machine run");
    }
}

#[test]
fn dry_run_writes_the_array_and_merge_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SIM.to_vec();
    args.extend([
        "--slurm",
        "4",
        "--slurm-opt",
        "--time=10 --partition=main",
        "--dry-run",
        "--out",
        "cluster",
    ]);
    let said = ok(cartkin_in(dir.path(), &args));
    assert!(said.contains("--dry-run"), "{said}");
    let slurm = dir.path().join("cluster/slurm");
    let array = std::fs::read_to_string(slurm.join("array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=1-4\n"), "{array}");
    assert!(
        array.contains("#SBATCH --time=10\n#SBATCH --partition=main\n"),
        "{array}"
    );
    assert!(
        array.contains("'--seed' '11' --shard slurm --force --out "),
        "{array}"
    );
    assert!(
        !array.contains("--dry-run") && !array.contains("'--slurm'"),
        "{array}"
    );
    let merge = std::fs::read_to_string(slurm.join("merge.sbatch")).unwrap();
    for i in 1..=4 {
        assert!(merge.contains(&format!("/shards/{i}'")), "{merge}");
    }
    let submit = std::fs::read_to_string(slurm.join("submit.sh")).unwrap();
    assert!(
        submit.contains("--dependency=afterok:$array merge.sbatch"),
        "{submit}"
    );
    // an existing output directory is kept unless --force
    let again = cartkin_in(dir.path(), &args);
    assert_eq!(again.status.code(), Some(1));
}

/// The options each task sets itself (`--slurm`, `--slurm-opt`, `--dry-run`, `--shard`,
/// `--force`, `--out`) are dropped from the task's command line, in both their
/// `--opt value` and `--opt=value` forms; the others are kept in order.
#[test]
fn task_command_lines_drop_the_options_each_task_sets_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SIM.to_vec();
    args.extend([
        "--slurm=2",
        "--out=cluster",
        "--force",
        "--slurm-opt=--time=5",
        "--dry-run",
    ]);
    ok(cartkin_in(dir.path(), &args));
    let array = std::fs::read_to_string(dir.path().join("cluster/slurm/array.sbatch")).unwrap();
    assert!(
        array.contains(
            "'simulate' '--model' 'stein2019' '--dose' '1e6,1e7,1e8' '--n' '3' '--days' '60' '--seed' '11' --shard slurm --force --out "
        ),
        "{array}"
    );
    for dropped in ["'--slurm", "'--out", "'--force'", "'--dry-run'"] {
        assert!(!array.contains(dropped), "{dropped} in {array}");
    }
    assert!(array.contains("#SBATCH --time=5\n"), "{array}");
}

/// Run the scripts the way Slurm would — each array task with its SLURM_ARRAY_*
/// variables, then the merge — but with bash on this machine, so the scripts themselves
/// are tested everywhere.
#[test]
fn the_scripts_run_by_hand_give_the_single_machine_result() {
    let dir = tempfile::tempdir().unwrap();
    single_run(dir.path());
    let mut args = SIM.to_vec();
    args.extend(["--slurm", "3", "--dry-run", "--out", "cluster"]);
    ok(cartkin_in(dir.path(), &args));
    let slurm = dir.path().join("cluster/slurm");
    for task in ["1", "2", "3"] {
        ok(Command::new("bash")
            .arg(slurm.join("array.sbatch"))
            .current_dir(dir.path())
            .env("SLURM_ARRAY_TASK_ID", task)
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_MAX", "3")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .output()
            .unwrap());
    }
    ok(Command::new("bash")
        .arg(slurm.join("merge.sbatch"))
        .current_dir(dir.path())
        .output()
        .unwrap());
    assert_same_as_single(dir.path(), "cluster");
}

fn slurm_is_up() -> Result<(), String> {
    let o = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map_err(|e| format!("sinfo cannot be run ({e})"))?;
    let states = String::from_utf8_lossy(&o.stdout);
    if o.status.success()
        && states
            .lines()
            .any(|s| s.trim() == "idle" || s.trim() == "mixed")
    {
        Ok(())
    } else {
        Err(format!(
            "no idle Slurm node (sinfo: {} {})",
            states.trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

fn job_finished(id: &str) -> bool {
    Command::new("squeue")
        .args(["-h", "-j", id])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(true)
}

#[test]
fn a_four_task_job_array_on_slurm_gives_the_single_machine_result() {
    if let Err(why) = slurm_is_up() {
        if std::env::var_os("CARTKIN_REQUIRE_SLURM").is_some() {
            panic!("CARTKIN_REQUIRE_SLURM is set but {why}");
        }
        println!("SKIPPED a_four_task_job_array_on_slurm: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    single_run(dir.path());
    let mut args = SIM.to_vec();
    args.extend(["--slurm", "4", "--out", "cluster"]);
    let said = ok(cartkin_in(dir.path(), &args));
    // "submitted job array A (4 tasks) and merge job M ..."
    let words: Vec<&str> = said.split_whitespace().collect();
    let id = |w: &str| {
        words
            .windows(3)
            .find(|p| p[0] == w && p[1] == "job" || p[0] == "job" && p[1] == w)
            .map(|p| p[2].to_string())
            .unwrap_or_else(|| panic!("no job id for {w:?} in {said}"))
    };
    let (array, merge) = (id("array"), id("merge"));
    let start = Instant::now();
    while !(job_finished(&array) && job_finished(&merge)) {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "jobs {array} and {merge} still queued or running after 300 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = |f: &str| std::fs::read_to_string(dir.path().join("cluster/slurm").join(f));
    assert!(
        dir.path().join("cluster/run.json").exists(),
        "the merge job left no result; merge.log: {:?}; task_1.log: {:?}",
        log("merge.log"),
        log("task_1.log")
    );
    assert_same_as_single(dir.path(), "cluster");
}
