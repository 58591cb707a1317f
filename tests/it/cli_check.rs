//! `cartkin check` end to end: the real binary in a scratch directory (xsv-style), on
//! good files and on malformed ones. Every malformed file must give exit code 1 (never a
//! panic, which would be 101) and a message naming the line and column (or the missing
//! column) of each problem.

use std::path::{Path, PathBuf};
use std::process::Output;

/// A scratch directory holding input files, in which `cartkin` runs.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        crate::common::cartkin_in(self.dir.path(), args)
    }
}

struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check_file(contents: &str, extra: &[&str]) -> Checked {
    let wd = Workdir::new();
    wd.write("data.csv", contents);
    let mut args = vec!["check", "data.csv"];
    args.extend_from_slice(extra);
    let out = wd.run(&args);
    Checked {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A malformed file: exit 1, and stderr holds every expected fragment.
fn refused(contents: &str, extra: &[&str], fragments: &[&str]) -> Checked {
    let c = check_file(contents, extra);
    assert_eq!(c.code, 1, "expected exit 1; stderr:\n{}", c.stderr);
    assert!(!c.stderr.contains("panicked"), "panic:\n{}", c.stderr);
    for f in fragments {
        assert!(
            c.stderr.contains(f),
            "stderr lacks {f:?}; stderr:\n{}",
            c.stderr
        );
    }
    c
}

const HEADER: &str = "ID,TIME,DV,DVID,CENS,LLOQ,EVID,AMT,WT,SEX\n";

fn with_header(rows: &str) -> String {
    format!("{HEADER}{rows}")
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.csv")
}

#[test]
fn bundled_example_passes_with_summary() {
    let wd = Workdir::new();
    let path = example_path();
    let out = wd.run(&["check", path.to_str().expect("utf-8 path")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Counts are those of data/README.md: 18 subjects (IDs 1..18), 3 dose levels of 6.
    assert!(stdout.contains("subjects      18"), "{stdout}");
    for analyte in ["transgene", "b_cells", "igg"] {
        assert!(stdout.contains(analyte), "{analyte} missing:\n{stdout}");
    }
    for level in [
        "2.5e7        6 subjects: 1, 2, 3, 4, 5, 6",
        "5e7          6 subjects: 7, 8, 9, 10, 11, 12",
        "1e8          6 subjects: 13, 14, 15, 16, 17, 18",
    ] {
        assert!(stdout.contains(level), "{level} missing:\n{stdout}");
    }
    assert!(stdout.contains("WT"), "{stdout}");
    assert!(stdout.contains("time span     -7 to 365 days"), "{stdout}");
    // Records and censored records per analyte, counted independently of cartkin with
    // awk -F, 'NR>1 && $7==0 {n[$4]++; if ($5==1 || $3 ~ /^</ || $3=="BLQ") c[$4]++}'
    // (EVID is column 7): b_cells 252 / 42, igg 252 / 0, transgene 252 / 100
    // (BLQ % = 16.7, 0.0, 39.7); 756 observations, 142 censored; 18 rows with EVID 1.
    for row in [
        "b_cells             252        18     42   16.7%",
        "igg                 252        18      0    0.0%",
        "transgene           252        18    100   39.7%",
    ] {
        assert!(stdout.contains(row), "{row} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("756 observations (142 censored), 18 doses, 0 set aside"),
        "{stdout}"
    );
    assert!(stdout.contains("no warnings"), "{stdout}");
}

#[test]
fn aliases_text_censoring_and_unknown_analytes_are_read_with_warnings() {
    let c = check_file(
        "usubjid,Day,Value,Analyte,bql,LOQ,dose_cells,wt\n\
         S1,0,,,,,5e7,70\n\
         S1,7,BLQ,transgene,,20,,70\n\
         S1,14,<20,transgene,,,,70\n\
         S1,28,350,transgene,0,20,,70\n\
         S1,28,4.2,cd4_ratio,0,,,70\n",
        &[],
    );
    assert_eq!(c.code, 0, "stderr: {}", c.stderr);
    // transgene: 3 records, 2 censored = 66.7 %
    assert!(
        c.stdout
            .contains("transgene             3         1      2   66.7%"),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout
            .contains("data.csv:6: column Analyte: value 'cd4_ratio'"),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout.contains("5e7          1 subject: S1"),
        "{}",
        c.stdout
    );
}

#[test]
fn numeric_dvid_codes_with_an_explicit_map() {
    let data = "ID,TIME,DV,DVID,DOSE\n1,1,100,1,5e7\n1,1,3,2,5e7\n";
    let c = check_file(data, &["--dvid-map", "1=transgene,2=b_cells"]);
    assert_eq!(c.code, 0, "stderr: {}", c.stderr);
    assert!(c.stdout.contains("b_cells") && c.stdout.contains("transgene"));
    // Without the map, the default mapping is used and said.
    let c = check_file(data, &[]);
    assert_eq!(c.code, 0);
    assert!(
        c.stdout
            .contains("default mapping 1=transgene, 2=cart_cells"),
        "{}",
        c.stdout
    );
}

// ---- malformed inputs: each must be refused with line and column --------------------

#[test]
fn missing_required_column() {
    refused(
        "ID,TIME,DVID\n1,0,transgene\n",
        &[],
        &["data.csv:1: column DV: expected a required column DV (or value, conc)"],
    );
}

#[test]
fn non_numeric_time() {
    refused(
        &with_header("1,abc,100,transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:2: column TIME: value 'abc': expected a number"],
    );
}

#[test]
fn non_finite_value() {
    refused(
        &with_header("1,1,inf,transgene,0,20,0,,70,F\n1,2,NaN,transgene,0,20,0,,70,F\n"),
        &[],
        &[
            "data.csv:2: column DV: value 'inf': expected a finite number",
            "data.csv:3: column DV: value 'NaN': expected a finite number",
        ],
    );
}

#[test]
fn negative_value_where_impossible() {
    refused(
        &with_header(
            "1,0,,,,,1,-5e7,70,F\n1,1,-3,b_cells,0,1,0,,70,F\n1,2,4,b_cells,0,1,0,,-70,F\n",
        ),
        &[],
        &[
            "data.csv:2: column AMT: value '-5e7': expected a number (cells infused), not negative",
            "data.csv:3: column DV: value '-3': expected a value >= 0",
            "data.csv:4: column WT: value '-70': expected a number, positive",
        ],
    );
}

#[test]
fn duplicate_id_time_analyte() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,7,100,transgene,0,20,0,,70,F\n1,7,120,Transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:4: column DV: expected one record per (ID, TIME, analyte): subject 1, time 7, transgene is also on line 3"],
    );
}

#[test]
fn subject_without_observations() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,7,100,transgene,0,20,0,,70,F\n2,0,,,,,1,5e7,80,M\n"),
        &[],
        &["data.csv:4: column ID: value '2': expected at least one observation"],
    );
}

#[test]
fn censored_record_without_limit() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,7,,transgene,1,,0,,70,F\n1,8,BLQ,transgene,,,0,,70,F\n"),
        &[],
        &[
            "data.csv:3: column LLOQ: value '': expected a limit for the censored record",
            "data.csv:4: column LLOQ: value '': expected a limit for the censored record (DV 'BLQ')",
        ],
    );
}

#[test]
fn inconsistent_categorical_covariate() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,7,100,transgene,0,20,0,,70,M\n"),
        &[],
        &["data.csv:3: column SEX: value 'M': expected the same level on every record of subject 1: line 2 has 'F'"],
    );
}

#[test]
fn wrong_number_of_fields() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,7,100,transgene,0,20,0,70,F\n"),
        &[],
        &["data.csv:3: value '1,7,100,transgene,0,20,0,70,F': expected 10 comma-separated fields as in the header (found 9)"],
    );
}

#[test]
fn dose_record_without_amount() {
    refused(
        &with_header("1,0,,,,,1,,70,F\n1,7,100,transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:2: column AMT: value '': expected a positive amount (cells infused) on a dose record"],
    );
}

#[test]
fn unsupported_evid() {
    refused(
        &with_header("1,0,,,,,5,5e7,70,F\n1,7,100,transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:2: column EVID: value '5': expected 0 (observation), 1 (dose), 2 (other event), 3 (reset) or 4 (reset and dose)"],
    );
}

#[test]
fn unknown_numeric_dvid_code() {
    refused(
        "ID,TIME,DV,DVID,DOSE\n1,1,100,1,5e7\n1,1,3,7,5e7\n",
        &["--dvid-map", "1=transgene,2=b_cells"],
        &["data.csv:3: column DVID: value '7': expected an analyte name, or a code of the mapping 1=transgene, 2=b_cells"],
    );
}

#[test]
fn invalid_censoring_flag_and_text_value() {
    refused(
        &with_header(
            "1,0,,,,,1,5e7,70,F\n1,7,100,transgene,2,20,0,,70,F\n1,8,<abc,transgene,,20,0,,70,F\n",
        ),
        &[],
        &[
            "data.csv:3: column CENS: value '2': expected 0 or 1",
            "data.csv:4: column DV: value '<abc': expected a number, or BLQ, BQL, <LLOQ, <x",
        ],
    );
}

#[test]
fn non_numeric_required_numeric_covariate() {
    refused(
        &with_header("1,0,,,,,1,5e7,seventy,F\n1,7,100,transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:2: column WT: value 'seventy': expected a number (WT is a numeric covariate)"],
    );
}

#[test]
fn time_varying_covariate_with_two_values_at_one_time() {
    refused(
        &with_header("1,0,,,,,1,5e7,70,F\n1,0,5,b_cells,0,1,0,,72,F\n1,7,100,transgene,0,20,0,,70,F\n"),
        &[],
        &["data.csv:3: column WT: value '72': expected one value at time 0 for subject 1: line 2 has 70"],
    );
}

#[test]
fn dose_and_value_on_one_row_without_evid() {
    refused(
        "ID,TIME,DV,DVID,AMT\n1,0,5,b_cells,5e7\n",
        &[],
        &["data.csv:2: column AMT: value '5e7': expected a dose row without a DV, or an EVID column"],
    );
}

#[test]
fn repeated_dosing_columns_are_checked() {
    // ADDL needs a positive II; steady state (SS) is refused
    refused(
        "ID,TIME,DV,DVID,EVID,AMT,ADDL,II,SS\n1,0,,,1,5e7,2,,0\n1,7,100,transgene,0,,0,0,1\n",
        &[],
        &[
            "data.csv:2: column II: value '': expected a positive interdose interval on a record with ADDL = 2",
            "data.csv:3: column SS: value '1': expected 0 or empty (steady-state dosing is not supported",
        ],
    );
}

#[test]
fn empty_file_and_semicolon_header() {
    refused("", &[], &["data.csv: expected a header line"]);
    refused(
        "ID;TIME;DV;DVID\n1;0;5;b_cells\n",
        &[],
        &["data.csv:1: column TIME: expected a required column TIME (or day, time_days) (missing from the header) (the header looks separated by ';' or tabs: expected commas)"],
    );
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let c = refused(
        &with_header(
            "1,0,,,,,1,5e7,70,F\n\
             1,x,100,transgene,0,20,0,,70,F\n\
             1,7,y,transgene,0,20,0,,70,F\n\
             1,8,100,transgene,0,-1,0,,70,F\n",
        ),
        &[],
        &[
            "3 errors",
            "data.csv:3: column TIME: value 'x'",
            "data.csv:4: column DV: value 'y'",
            "data.csv:5: column LLOQ: value '-1'",
        ],
    );
    assert!(
        c.stdout.is_empty(),
        "no summary for a refused file: {}",
        c.stdout
    );
}

#[test]
fn missing_file_and_bad_dvid_map_are_input_errors() {
    let wd = Workdir::new();
    let out = wd.run(&["check", "no-such-file.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.csv: cannot read"));
    wd.write("d.csv", "ID,TIME,DV,DVID\n1,1,5,b_cells\n");
    let out = wd.run(&["check", "d.csv", "--dvid-map", "1:transgene"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--dvid-map: '1:transgene': expected CODE=ANALYTE"));
}

#[test]
fn line_numbers_count_blank_comment_and_crlf_lines() {
    // line 1 comment, 2 blank, 3 header, 4 record, 5 blank (CRLF), 6 comment, 7 record
    refused(
        "# exported 2026-11-23\n\nID,TIME,DV,DVID,DOSE\r\n1,1,5,b_cells,5e7\r\n\r\n# visit 2\n1,2,x,b_cells,5e7\r\n",
        &[],
        &["data.csv:7: column DV: value 'x': expected a number"],
    );
    // a quoted field spanning lines: the record is reported at its first line, escaped
    refused(
        "ID,TIME,DV,DVID\n\"1,0\n1\",1,5\n",
        &[],
        &["data.csv:2: value '1,0\\n1,1,5': expected 4 comma-separated fields as in the header (found 3)"],
    );
}

#[test]
fn dose_covariate_disagreeing_with_dose_records_is_a_warning() {
    let c = check_file(
        "ID,TIME,DV,DVID,EVID,AMT,DOSE\n1,0,,,1,5e7,2.5e7\n1,7,100,transgene,0,,2.5e7\n",
        &[],
    );
    assert_eq!(c.code, 0, "stderr: {}", c.stderr);
    assert!(
        c.stdout.contains("data.csv:2: column DOSE: value '25000000': expected the total of subject 1's dose records (50000000); the dose records are used"),
        "{}",
        c.stdout
    );
}

#[test]
fn per_kg_doses_are_grouped_by_dose_per_kg() {
    // DOSE_PER_KG × WT: 1e5 × 60 = 6e6 and 1e5 × 80 = 8e6 cells, one level of 1e5/kg.
    let c = check_file(
        "ID,TIME,DV,DVID,DOSE_PER_KG,WT\n1,7,100,transgene,1e5,60\n2,7,90,transgene,1e5,80\n3,7,300,transgene,5e5,70\n",
        &[],
    );
    assert_eq!(c.code, 0, "stderr: {}", c.stderr);
    assert!(
        c.stdout.contains("dose levels (DOSE_PER_KG)"),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout.contains("1e5/kg       2 subjects: 1, 2"),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout.contains("5e5/kg       1 subject: 3"),
        "{}",
        c.stdout
    );
}

#[test]
fn records_set_aside_are_counted_and_explained() {
    let c = check_file(
        "ID,TIME,DV,DVID,EVID,AMT,MDV,WT\n\
         1,0,,,1,5e7,1,70\n\
         1,3,,transgene,0,,1,70\n\
         1,5,,,2,,0,72\n\
         1,7,100,transgene,0,,0,72\n\
         1,9,,b_cells,0,,1,72\n",
        &[],
    );
    assert_eq!(c.code, 0, "stderr: {}", c.stderr);
    for fragment in [
        "1 observation (0 censored), 1 dose, 3 set aside",
        "1 record: EVID 2 (other event): not an observation or a dose; its covariate values are used\n      lines 4",
        "2 records: MDV 1 without EVID 1: not an observation; its covariate values are used\n      lines 3, 6",
        "data.csv:3: expected an observation or a dose record; 2 records set aside: MDV 1",
        "WT           numeric      70 - 72 (1 subject, time-varying in 1)",
    ] {
        assert!(c.stdout.contains(fragment), "{fragment:?} missing:\n{}", c.stdout);
    }
}

#[test]
fn header_without_data_rows_is_refused() {
    refused(
        "ID,TIME,DV,DVID\n# nothing yet\n",
        &[],
        &["data.csv: expected at least one data row after the header"],
    );
}
