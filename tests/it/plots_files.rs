//! Plots written by `fit`, `nca` and `simulate` on the bundled data: each figure exists
//! as a PNG that decodes to a non-blank picture and an SVG that parses, `--no-plots`
//! writes none, and drawing does not change a byte of the CSV tables.

use std::path::Path;

use crate::common::figures::{assert_png, assert_svg};
use crate::common::{cartkin_in, repo_file};

fn run(dir: &Path, args: &[&str]) {
    let o = cartkin_in(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn check_figures(dir: &Path, stems: &[&str]) {
    for stem in stems {
        assert_png(&dir.join(format!("{stem}.png")));
        assert_svg(&dir.join(format!("{stem}.svg")), 20);
    }
}

fn files_with(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

/// The CSV files of two directories are byte for byte the same.
fn same_tables(a: &Path, b: &Path) {
    let names = files_with(a, ".csv");
    assert!(!names.is_empty());
    assert_eq!(names, files_with(b, ".csv"));
    for n in names {
        assert!(
            std::fs::read(a.join(&n)).unwrap() == std::fs::read(b.join(&n)).unwrap(),
            "{n} differs with plots"
        );
    }
}

#[test]
fn fit_plots_are_real_files_and_leave_the_tables_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo_file("data/example.csv");
    let data = data.to_str().unwrap();
    let base = [
        "fit",
        data,
        "--model",
        "stein2019",
        "--seed",
        "11",
        "--threads",
        "1",
    ];
    run(tmp.path(), &[&base[..], &["--out", "with"]].concat());
    run(
        tmp.path(),
        &[&base[..], &["--out", "without", "--no-plots"]].concat(),
    );
    let with = tmp.path().join("with");
    // 18 subjects with transgene records: pages of 12 → 2 pages; residuals are IWRES
    // (the individual fit writes no CWRES/NPDE)
    check_figures(
        &with,
        &[
            "fit_profiles_transgene_1",
            "fit_profiles_transgene_2",
            "fit_gof_transgene",
            "fit_residuals_transgene",
            "fit_parameters",
        ],
    );
    let svg = std::fs::read_to_string(with.join("fit_residuals_transgene.svg")).unwrap();
    assert!(svg.contains("IWRES"), "residual axis names IWRES");
    assert!(!with.join("fit_profiles_transgene_3.png").exists());
    assert!(files_with(&tmp.path().join("without"), ".png").is_empty());
    assert!(files_with(&tmp.path().join("without"), ".svg").is_empty());
    same_tables(&with, &tmp.path().join("without"));
}

#[test]
fn nca_plots_are_real_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo_file("data/example.csv");
    run(tmp.path(), &["nca", data.to_str().unwrap(), "--out", "nca"]);
    run(
        tmp.path(),
        &["nca", data.to_str().unwrap(), "--out", "bare", "--no-plots"],
    );
    let dir = tmp.path().join("nca");
    check_figures(
        &dir,
        &[
            "nca_profiles",
            "nca_dose_proportionality",
            "nca_bcell_recovery",
        ],
    );
    let svg = std::fs::read_to_string(dir.join("nca_dose_proportionality.svg")).unwrap();
    assert!(svg.contains("90 % CI"), "the slope and its CI are printed");
    same_tables(&dir, &tmp.path().join("bare"));
}

#[test]
fn simulate_plots_are_real_files() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "simulate",
        "--model",
        "stein2019",
        "--dose",
        "25e6,100e6",
        "--n",
        "20",
        "--days",
        "60",
        "--seed",
        "3",
    ];
    run(tmp.path(), &[&args[..], &["--out", "sim"]].concat());
    run(
        tmp.path(),
        &[&args[..], &["--out", "bare", "--no-plots"]].concat(),
    );
    let dir = tmp.path().join("sim");
    check_figures(&dir, &["simulate_bands", "simulate_endpoints"]);
    same_tables(&dir, &tmp.path().join("bare"));
}
