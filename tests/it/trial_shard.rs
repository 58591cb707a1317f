//! `cartkin trial --shard i/N` and `cartkin merge`: the merged files of the shards are
//! byte-identical to the unsharded run (trial.csv, trials.csv, patients.csv and
//! endpoints_summary.csv), for BOIN with an exposure link and for 3+3 with fixed
//! probabilities; shards that do not make one run are refused.

use std::path::Path;

use crate::common::cartkin_in as cartkin;
use crate::common::trial::pk_scenario;

const BOIN: &str = "rule = \"boin\"\ntarget = 0.3\nmax_n = 12\ndlt_window_days = 28";
const LINK: &str =
    "link = \"logistic\"\nmetric = \"cmax\"\nanalyte = \"conc\"\nintercept = -3.0\nslope = 1.0";
const THREE: &str = "rule = \"3+3\"\ndlt_window_days = 28";

fn ok(dir: &Path, args: &[&str]) {
    let o = cartkin(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn sharded_equals_single(design: &str, toxicity: &str, shards: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), pk_scenario(design, toxicity)).unwrap();
    // 25 trials, of which the first 7 give the endpoint summary: with 4 shards of 6 or
    // 7 trials, shard 1 must simulate trial 7 again for it.
    let common = [
        "trial",
        "s.toml",
        "--reps",
        "25",
        "--summary-trials",
        "7",
        "--seed",
        "5",
    ];
    ok(d, &[&common[..], &["--out", "single"]].concat());
    let mut dirs = Vec::new();
    for i in 1..=shards {
        let out = format!("part{i}");
        let shard = format!("{i}/{shards}");
        ok(
            d,
            &[&common[..], &["--shard", &shard, "--out", &out]].concat(),
        );
        dirs.push(out);
    }
    // any order of the shard directories
    dirs.reverse();
    let mut merge = vec!["merge"];
    merge.extend(dirs.iter().map(String::as_str));
    merge.extend(["--out", "merged"]);
    ok(d, &merge);
    for f in [
        "trial.csv",
        "trials.csv",
        "patients.csv",
        "endpoints_summary.csv",
    ] {
        let a = std::fs::read(d.join("single").join(f)).unwrap();
        let b = std::fs::read(d.join("merged").join(f)).unwrap();
        assert!(a == b, "merged {f} differs from the unsharded run");
    }
}

#[test]
fn boin_with_an_exposure_link_sharded_equals_single() {
    sharded_equals_single(BOIN, LINK, 4);
}

#[test]
fn three_plus_three_sharded_equals_single() {
    sharded_equals_single(THREE, "p_dlt = [0.1, 0.25, 0.5]", 3);
}

#[test]
fn shards_of_different_runs_or_a_missing_shard_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), pk_scenario(BOIN, LINK)).unwrap();
    let run = |shard: &str, seed: &str, out: &str| {
        ok(
            d,
            &[
                "trial", "s.toml", "--reps", "6", "--seed", seed, "--shard", shard, "--out", out,
            ],
        )
    };
    run("1/3", "1", "a");
    run("2/3", "2", "b");
    run("3/3", "1", "c");
    let o = cartkin(d, &["merge", "a", "b", "c", "--out", "m1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("its seed differ"), "{err}");
    let o = cartkin(d, &["merge", "a", "c", "--out", "m2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing shards: 2/3"), "{err}");
}
