//! `cartkin trial` end to end: the files and their columns, the same bytes for 1 and 2
//! threads, `--exact` against the library's enumeration, the seed scenarios, and bad
//! input exiting 1 with the file, key and expectation in the message.

use std::path::Path;

use crate::common::cartkin_in as cartkin;
use crate::common::repo_file;
use crate::common::trial::pk_scenario;

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = cartkin(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(dir: &Path, args: &[&str], message: &str) {
    let o = cartkin(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected '{message}' in: {err}"
    );
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const BOIN: &str = "rule = \"boin\"\ntarget = 0.3\nmax_n = 12\ndlt_window_days = 28";
const LINK: &str =
    "link = \"logistic\"\nmetric = \"cmax\"\nanalyte = \"conc\"\nintercept = -3.0\nslope = 1.0";

#[test]
fn boin_with_a_link_writes_the_files_and_the_same_bytes_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), pk_scenario(BOIN, LINK)).unwrap();
    let common = ["trial", "s.toml", "--reps", "300", "--summary-trials", "20"];
    ok(
        d,
        &[&common[..], &["--threads", "1", "--out", "t1"]].concat(),
    );
    ok(
        d,
        &[&common[..], &["--threads", "2", "--out", "t2"]].concat(),
    );
    for f in ["trial.csv", "trials.csv", "endpoints_summary.csv"] {
        assert_eq!(read(&d.join("t1"), f), read(&d.join("t2"), f), "{f}");
    }
    let oc = read(&d.join("t1"), "trial.csv");
    let lines: Vec<&str> = oc.lines().collect();
    assert_eq!(lines[0], "dose_level,dose,p_dlt,p_select,mean_n,mean_dlt");
    assert_eq!(lines.len(), 5);
    assert!(lines[4].starts_with("none,,,"));
    let total: f64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-12, "{oc}");
    let trials = read(&d.join("t1"), "trials.csv");
    assert_eq!(trials.lines().count(), 301);
    assert!(trials.starts_with(
        "trial,selected_level,selected_dose,n,dlt,stopped_early,n_1,n_2,n_3,dlt_1,dlt_2,dlt_3\n"
    ));
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("t1"), "run.json")).unwrap();
    let le = run["settings"]["design"]["lambda_e"].as_f64().unwrap();
    let ld = run["settings"]["design"]["lambda_d"].as_f64().unwrap();
    // Liu & Yuan (2015): 0.236 and 0.358 for target 0.30 (three decimals).
    assert!(
        (le - 0.236).abs() < 1e-3 && (ld - 0.358).abs() < 1e-3,
        "{le} {ld}"
    );
    assert_eq!(run["reps"], 300);
    assert_eq!(run["seed"], 11);
    // Endpoints of the treated patients, per level that was reached.
    let es = read(&d.join("t1"), "endpoints_summary.csv");
    assert!(es.lines().nth(1).unwrap().starts_with("100,conc,"), "{es}");
    // An existing output needs --force.
    fails(d, &[&common[..], &["--out", "t1"]].concat(), "--force");
    ok(d, &[&common[..], &["--out", "t1", "--force"]].concat());
}

#[test]
fn exact_three_plus_three_is_the_enumeration() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let design = "rule = \"3+3\"\ndlt_window_days = 28";
    std::fs::write(
        d.join("s.toml"),
        pk_scenario(design, "p_dlt = [0.1, 0.25, 0.5]"),
    )
    .unwrap();
    ok(d, &["trial", "s.toml", "--exact", "--out", "x"]);
    let exact =
        cartkin::trial::exact::three_plus_three_exact(&[100.0, 300.0, 900.0], &[0.1, 0.25, 0.5], 0);
    let text = read(&d.join("x"), "trial.csv");
    for (l, line) in text.lines().skip(1).take(3).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[3].parse::<f64>().unwrap(), exact.levels[l].p_select);
        assert_eq!(f[4].parse::<f64>().unwrap(), exact.levels[l].mean_n);
    }
    assert!(!d.join("x/trials.csv").exists());
    // BOIN and exposure links are simulated only.
    std::fs::write(
        d.join("b.toml"),
        pk_scenario(BOIN, "p_dlt = [0.1, 0.25, 0.5]"),
    )
    .unwrap();
    fails(
        d,
        &["trial", "b.toml", "--exact", "--out", "y"],
        "expected a 3+3 design",
    );
    std::fs::write(d.join("l.toml"), pk_scenario(design, LINK)).unwrap();
    fails(
        d,
        &["trial", "l.toml", "--exact", "--out", "y"],
        "expected fixed p_dlt",
    );
}

#[test]
fn the_seed_scenarios_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (file, rule) in [("rd06-04_sle.toml", "3+3"), ("ct1195e_sle.toml", "boin")] {
        let path = repo_file(&format!("data/trials/{file}"));
        let out = d.join(file);
        ok(
            d,
            &[
                "trial",
                path.to_str().unwrap(),
                "--reps",
                "10",
                "--summary-trials",
                "1",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let run: serde_json::Value = serde_json::from_str(&read(&out, "run.json")).unwrap();
        assert_eq!(run["settings"]["design"]["rule"], rule);
        assert_eq!(run["settings"]["toxicity"]["metric"], "auc0_28");
        // Every level's p_dlt is an exposure-implied probability in (0, 0.3).
        for line in read(&out, "trial.csv").lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f[0] != "none" && !f[2].is_empty() {
                let p: f64 = f[2].parse().unwrap();
                assert!(p > 0.0 && p < 0.3, "{file}: {line}");
            }
        }
    }
}

#[test]
fn bad_input_names_the_file_key_and_expectation() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases: [(&str, String, &str); 9] = [
        (
            "no_design.toml",
            pk_scenario(BOIN, LINK).replace(&format!("[design]\n{BOIN}\n"), ""),
            "no [design] section",
        ),
        (
            "rule.toml",
            pk_scenario("rule = \"crm\"\ndlt_window_days = 28", LINK),
            "[design] rule = \"crm\": expected \"boin\" or \"3+3\"",
        ),
        (
            "target.toml",
            pk_scenario(&BOIN.replace("0.3", "0.9"), LINK),
            "[design] target = 0.9: expected a probability from 0.05 to 0.6",
        ),
        (
            "p_len.toml",
            pk_scenario(BOIN, "p_dlt = [0.1, 0.2]"),
            "[toxicity] p_dlt = [0.1, 0.2]: expected one probability per dose level (3)",
        ),
        (
            "p_range.toml",
            pk_scenario(BOIN, "p_dlt = [0.1, 0.2, 1.5]"),
            "[toxicity] p_dlt = 1.5: expected probabilities from 0 to 1",
        ),
        (
            "unknown.toml",
            pk_scenario(&format!("{BOIN}\ncohorts = 4"), LINK),
            "unknown field `cohorts`",
        ),
        (
            "metric.toml",
            pk_scenario(BOIN, &LINK.replace("cmax", "auc")),
            "[toxicity] metric = \"auc\": expected \"cmax\" or \"auc0_28\"",
        ),
        (
            "analyte.toml",
            pk_scenario(BOIN, &LINK.replace("conc", "il6")),
            "[toxicity] analyte: value 'il6': expected an output of the model",
        ),
        (
            "boin_key.toml",
            pk_scenario("rule = \"3+3\"\nmax_n = 12\ndlt_window_days = 28", LINK),
            "[design] max_n: not a 3+3 setting",
        ),
    ];
    for (name, text, message) in &cases {
        std::fs::write(d.join(name), text).unwrap();
        fails(
            d,
            &["trial", name, "--reps", "5", "--out", &format!("o_{name}")],
            message,
        );
        fails(
            d,
            &["trial", name, "--reps", "5", "--out", &format!("o_{name}")],
            name,
        );
    }
    // Wrong types carry the line and column of the TOML parser.
    std::fs::write(
        d.join("type.toml"),
        pk_scenario(&BOIN.replace("12", "\"twelve\""), LINK),
    )
    .unwrap();
    fails(d, &["trial", "type.toml", "--out", "o"], "line 18");
    fails(
        d,
        &["trial", "missing.toml", "--out", "o"],
        "missing.toml: cannot read",
    );
    std::fs::write(d.join("ok.toml"), pk_scenario(BOIN, LINK)).unwrap();
    fails(
        d,
        &["trial", "ok.toml", "--reps", "0", "--out", "o"],
        "--reps 0",
    );
}
