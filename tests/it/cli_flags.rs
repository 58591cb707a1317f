//! Flags shared by the commands, with the same meaning everywhere (the real binary):
//! - `--threads 0` means all cores (fit and simulate), and the results do not depend on
//!   the thread count;
//! - `--analyte` selects analytes in nca, fit and simulate, `--analytes` is its alias,
//!   and an analyte may be given by its numeric DVID code;
//! - `--dvid-map` translates numeric DVID codes in check, nca, fit (the data and
//!   `--analyte`) and simulate (`--analyte` and `--lloq`).

use std::path::Path;
use std::process::Output;

use crate::common::{cartkin_in, repo_file};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run the binary in `dir`, expecting success.
fn ok(dir: &Path, args: &[&str]) {
    let o = cartkin_in(dir, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
}

/// Run the binary in `dir`, expecting exit 1 with `needle` in the message.
fn fails(dir: &Path, args: &[&str], needle: &str) {
    let o = cartkin_in(dir, args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: `{needle}` missing from {}",
        stderr(&o)
    );
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Subjects 1 and 2 of data/example.csv (transgene, b_cells and igg by name), and the
/// same records with the analytes coded 7, 8 and 9.
fn two_subjects(dir: &Path) {
    let text = std::fs::read_to_string(repo_file("data/example.csv")).unwrap();
    let mut named = String::new();
    for (i, line) in text.lines().enumerate() {
        let id = line.split(',').next().unwrap_or("");
        if i == 0 || id == "1" || id == "2" {
            named += line;
            named.push('\n');
        }
    }
    let coded = named
        .replace(",transgene,", ",7,")
        .replace(",b_cells,", ",8,")
        .replace(",igg,", ",9,");
    assert_ne!(named, coded);
    std::fs::write(dir.join("named.csv"), named).unwrap();
    std::fs::write(dir.join("coded.csv"), coded).unwrap();
}

#[test]
fn threads_zero_means_all_cores_and_results_do_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sim = |threads: &str, out: &str| {
        ok(
            dir,
            &[
                "simulate",
                "--model",
                "stein2019",
                "--dose",
                "25e6",
                "--n",
                "6",
                "--times",
                "0,7,28",
                "--seed",
                "3",
                "--threads",
                threads,
                "--out",
                out,
            ],
        )
    };
    sim("0", "s0");
    sim("1", "s1");
    assert_eq!(
        read(dir, "s0/simulation.csv"),
        read(dir, "s1/simulation.csv")
    );

    two_subjects(dir);
    let fit = |threads: &str, out: &str| {
        ok(
            dir,
            &[
                "fit",
                "named.csv",
                "--model",
                "stein2019",
                "--analyte",
                "transgene",
                "--seed",
                "5",
                "--threads",
                threads,
                "--out",
                out,
            ],
        )
    };
    fit("0", "f0");
    fit("1", "f1");
    assert_eq!(
        read(dir, "f0/parameters.csv"),
        read(dir, "f1/parameters.csv")
    );
    assert_eq!(
        read(dir, "f0/individual.csv"),
        read(dir, "f1/individual.csv")
    );
}

#[test]
fn analyte_analytes_and_dvid_codes_select_the_same_analytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = repo_file("data/example.csv");
    let data = data.to_str().unwrap();

    // nca: by name, by the alias, by the default code of b_cells (3), by a mapped code
    let nca = |extra: &[&str], out: &str| {
        let mut args = vec!["nca", data, "--out", out];
        args.extend_from_slice(extra);
        ok(dir, &args);
        read(dir, &format!("{out}/nca.csv"))
    };
    let by_name = nca(&["--analyte", "b_cells"], "n1");
    assert!(
        by_name.lines().skip(1).all(|l| l.contains(",b_cells,")),
        "{by_name}"
    );
    assert!(by_name.lines().count() > 1);
    assert_eq!(nca(&["--analytes", "b_cells"], "n2"), by_name);
    assert_eq!(nca(&["--analyte", "3"], "n3"), by_name);
    assert_eq!(
        nca(&["--dvid-map", "5=b_cells", "--analyte", "5"], "n4"),
        by_name
    );
    fails(
        dir,
        &["nca", data, "--analyte", "99", "--out", "n5"],
        "code 99 is not in the DVID map",
    );

    // simulate: the same selection by name, alias and code (3 = b_cells by default)
    let sim = |extra: &[&str], out: &str| {
        let mut args = vec![
            "simulate",
            "--model",
            "cd19_bcell",
            "--dose",
            "50e6",
            "--typical",
            "--times",
            "0,7,28",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        ok(dir, &args);
        read(dir, &format!("{out}/simulation.csv"))
    };
    let simulated = sim(&["--analyte", "b_cells"], "s1");
    assert!(
        simulated.contains("b_cells") && !simulated.contains("transgene"),
        "{simulated}"
    );
    assert_eq!(sim(&["--analytes", "b_cells"], "s2"), simulated);
    assert_eq!(sim(&["--analyte", "3"], "s3"), simulated);
    assert_eq!(
        sim(&["--dvid-map", "8=b_cells", "--analytes", "8"], "s4"),
        simulated
    );
    let lloq = |v: &str, out: &str| sim(&["--analyte", "b_cells", "--lloq", v], out);
    assert_eq!(lloq("3=5", "s5"), lloq("b_cells=5", "s6"));

    // fit: the alias and codes reach the same check of the model's outputs
    for extra in [
        &["--analyte", "b_cells"][..],
        &["--analytes", "b_cells"],
        &["--analyte", "3"],
        &["--dvid-map", "1=b_cells", "--analyte", "1"],
    ] {
        let mut args = vec!["fit", data, "--model", "stein2019", "--out", "f"];
        args.extend_from_slice(extra);
        fails(
            dir,
            &args,
            "--analyte: model `stein2019` does not predict `b_cells`",
        );
    }
}

#[test]
fn dvid_map_reads_coded_data_in_fit_like_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_subjects(dir);
    let map = "7=transgene,8=b_cells,9=igg";
    let fit = |data: &str, extra: &[&str], out: &str| {
        let mut args = vec![
            "fit",
            data,
            "--model",
            "stein2019",
            "--seed",
            "5",
            "--threads",
            "1",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        ok(dir, &args);
    };
    fit("named.csv", &["--analyte", "transgene"], "named");
    fit(
        "coded.csv",
        &["--dvid-map", map, "--analyte", "transgene"],
        "coded",
    );
    fit("coded.csv", &["--dvid-map", map, "--analyte", "7"], "code7");
    for file in ["parameters.csv", "individual.csv", "predictions.csv"] {
        let named = read(dir, &format!("named/{file}"));
        assert_eq!(read(dir, &format!("coded/{file}")), named, "{file}");
        assert_eq!(read(dir, &format!("code7/{file}")), named, "{file}");
    }
    fails(
        dir,
        &[
            "fit",
            "coded.csv",
            "--model",
            "stein2019",
            "--dvid-map",
            "7",
            "--out",
            "bad",
        ],
        "--dvid-map: '7': expected CODE=ANALYTE",
    );
    fails(
        dir,
        &["check", "coded.csv", "--dvid-map", "7=transgene,7=igg"],
        "--dvid-map: code 7 is mapped twice",
    );
}
