//! NONMEM datasets read unchanged: no DVID, R-style names, EVID 0–4, MDV, CMT, RATE/DUR,
//! ADDL/II, LOCF/NOCB covariates — and every bad value of a new column refused with its
//! file, line, column, value and what was expected.

use std::path::Path;

use cartkin::data::{
    read_csv_from, Analyte, CovariateRule, DataError, DvidMap, Issue, Loaded, ReadOptions,
};

fn read_with(text: &str, options: &ReadOptions) -> Result<Loaded, DataError> {
    read_csv_from(text.as_bytes(), Path::new("nm.csv"), options)
}

fn read(text: &str) -> Loaded {
    match read_with(text, &ReadOptions::default()) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

/// The only error of a refused file.
fn refused_with(text: &str, options: &ReadOptions) -> Issue {
    match read_with(text, options) {
        Ok(_) => panic!("expected a refusal of:\n{text}"),
        Err(DataError::Invalid { issues, .. }) => {
            let errors: Vec<Issue> = issues.into_iter().filter(Issue::is_error).collect();
            assert_eq!(errors.len(), 1, "{errors:?}");
            errors.into_iter().next().unwrap_or_else(|| unreachable!())
        }
        Err(e) => panic!("expected Invalid, got {e}"),
    }
}

fn refused(text: &str) -> Issue {
    refused_with(text, &ReadOptions::default())
}

/// The message names file, line, column, value and what was expected.
fn assert_located(i: &Issue, line: usize, column: &str, value: &str, expected: &str) {
    let text = i.to_string();
    assert_eq!((i.line, i.column.as_str()), (line, column), "{text}");
    assert_eq!(i.value.as_deref(), Some(value), "{text}");
    assert!(i.expected.contains(expected), "{text}");
    assert!(text.contains("nm.csv:") && text.contains(column), "{text}");
}

const THEOPH: &str = "ID,TIME,DV,AMT,EVID,CMT,WT
1,0,.,320,1,1,79.6
1,0.25,2.84,.,0,2,79.6
1,1,6.57,.,0,2,79.6
2,0,.,320,1,1,72.4
2,0.5,1.72,.,0,2,72.4
";

#[test]
fn a_nonmem_file_without_dvid_is_read() {
    let l = read(THEOPH);
    let s = &l.dataset.subjects[0];
    assert_eq!(s.observations.len(), 2);
    // observations in CMT 2, labelled for routing to a model output
    assert_eq!(s.observations[0].analyte, Analyte::unlabelled(Some(2)));
    assert_eq!(s.observations[0].analyte.unlabelled_cmt(), Some(Some(2)));
    assert_eq!(s.doses.len(), 1);
    assert_eq!(s.doses[0].target.as_deref(), Some("1"));
    assert_eq!(s.covariates.numeric("WT", 0.0), Some(79.6));
    // placeholders are not reported as unknown analytes
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn without_dvid_a_dvid_map_names_cmt_codes() {
    let options = ReadOptions {
        dvid_map: DvidMap::parse("2=conc").unwrap(),
        ..ReadOptions::default()
    };
    let l = read_with(THEOPH, &options).unwrap();
    assert_eq!(l.dataset.analytes(), vec![Analyte::new("conc")]);
    // a CMT code outside the mapping is refused where it is
    let bad = THEOPH.replace("1,1,6.57,.,0,2", "1,1,6.57,.,0,3");
    let i = refused_with(&bad, &options);
    assert_located(&i, 4, "CMT", "3", "a compartment of the mapping 2=conc");
}

#[test]
fn r_style_names_are_read() {
    // the column order and names of R's datasets::Theoph (Dose in mg/kg per subject)
    let l = read("Subject,Wt,Dose,Time,conc\n1,79.6,4.02,0,0.74\n1,79.6,4.02,0.25,2.84\n");
    let s = &l.dataset.subjects[0];
    assert_eq!(s.id, "1");
    assert_eq!(s.observations[1].time, 0.25);
    assert_eq!(s.observations[1].value, 2.84);
    assert_eq!(s.observations[1].analyte, Analyte::unlabelled(None));
    // Dose is the per-subject DOSE covariate: one dose at time 0
    assert_eq!(s.doses.len(), 1);
    assert_eq!(s.doses[0].amount, 4.02);
    assert_eq!(s.covariates.numeric("WT", 0.0), Some(79.6));
}

#[test]
fn addl_and_ii_equal_the_doses_written_out() {
    let repeated = read("ID,TIME,DV,AMT,EVID,CMT,ADDL,II\n1,0,.,100,1,1,3,12\n1,40,5,.,0,2,.,.\n");
    let written = read(
        "ID,TIME,DV,AMT,EVID,CMT\n1,0,.,100,1,1\n1,12,.,100,1,1\n1,24,.,100,1,1\n1,36,.,100,1,1\n1,40,5,.,0,2\n",
    );
    assert_eq!(
        repeated.dataset.without_provenance(),
        written.dataset.without_provenance()
    );
    let times: Vec<f64> = repeated.dataset.subjects[0]
        .doses
        .iter()
        .map(|d| d.time)
        .collect();
    assert_eq!(times, vec![0.0, 12.0, 24.0, 36.0]);
}

#[test]
fn rate_and_dur_give_infusion_durations() {
    let l =
        read("ID,TIME,DV,AMT,EVID,RATE,DUR\n1,0,.,100,1,50,.\n1,1,.,30,1,.,0.5\n1,3,2,.,0,.,.\n");
    let d = &l.dataset.subjects[0].doses;
    assert_eq!(d[0].duration, Some(2.0)); // AMT / RATE = 100 / 50
    assert_eq!(d[1].duration, Some(0.5));
}

#[test]
fn evid_3_and_4_are_resets_in_line_order() {
    let l = read(
        "ID,TIME,DV,AMT,EVID\n1,0,.,100,1\n1,2,3.5,.,0\n1,5,.,.,3\n1,8,.,50,4\n1,9,1.2,.,0\n1,9,.,.,2\n",
    );
    let s = &l.dataset.subjects[0];
    let kinds: Vec<(f64, bool, f64)> = s
        .doses
        .iter()
        .map(|d| (d.time, d.is_reset(), d.amount))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (0.0, false, 100.0),
            (5.0, true, 0.0),
            (8.0, true, 0.0),
            (8.0, false, 50.0)
        ]
    );
    assert_eq!(s.total_dose(), 150.0);
    assert_eq!(s.observations.len(), 2);
    assert_eq!(l.skipped.len(), 1); // the EVID 2 record
}

#[test]
fn covariates_locf_by_default_and_nocb_on_request() {
    let text = "ID,TIME,DV,WT\n1,0,1,70\n1,1,1,70\n1,2,1,80\n1,3,1,80\n";
    let locf = read(text);
    let c = &locf.dataset.subjects[0].covariates;
    // LOCF: a record's value holds from its time on
    assert_eq!(c.numeric("WT", 1.5), Some(70.0));
    assert_eq!(c.numeric("WT", 2.0), Some(80.0));
    let options = ReadOptions {
        covariates: CovariateRule::Nocb,
        ..ReadOptions::default()
    };
    let nocb = read_with(text, &options).unwrap();
    let c = &nocb.dataset.subjects[0].covariates;
    // NOCB: the value of the record at t = 2 holds back to the record before, (1, 2]
    assert_eq!(c.numeric("WT", 0.5), Some(70.0));
    assert_eq!(c.numeric("WT", 1.0), Some(70.0));
    assert_eq!(c.numeric("WT", 1.5), Some(80.0));
    assert_eq!(c.numeric("WT", 2.0), Some(80.0));
    assert_eq!(c.numeric("WT", 9.0), Some(80.0));
}

#[test]
fn bad_values_of_the_nonmem_columns_are_located() {
    let head = "ID,TIME,DV,AMT,EVID,CMT,ADDL,II,SS,RATE,DUR\n";
    let obs = "1,30,5,.,0,2,.,.,.,.,.\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "1,0,.,100,1,1,1.5,12,.,.,.",
            "ADDL",
            "1.5",
            "a whole number of additional doses",
        ),
        ("1,0,.,100,1,1,-1,12,.,.,.", "ADDL", "-1", "not negative"),
        (
            "1,0,.,100,1,1,2,.,.,.,.",
            "II",
            "",
            "a positive interdose interval on a record with ADDL = 2",
        ),
        ("1,0,.,100,1,1,2,-3,.,.,.", "II", "-3", "not negative"),
        (
            "1,0,.,100,1,1,.,.,1,.,.",
            "SS",
            "1",
            "steady-state dosing is not supported",
        ),
        (
            "1,0,.,100,5,1,.,.,.,.,.",
            "EVID",
            "5",
            "3 (reset) or 4 (reset and dose)",
        ),
        (
            "1,0,.,100,1.5,1,.,.,.,.,.",
            "EVID",
            "1.5",
            "4 (reset and dose)",
        ),
        ("1,0,.,.,4,1,.,.,.,.,.", "AMT", "", "a positive amount"),
        (
            "1,0,.,100,1,1,.,.,.,-2,.",
            "RATE",
            "-2",
            "modelled rates -1/-2 are not supported",
        ),
        (
            "1,0,.,100,1,1,.,.,.,50,2",
            "RATE",
            "50",
            "RATE or DUR, not both",
        ),
        ("1,0,.,100,1,1,.,.,.,.,x", "DUR", "x", "a duration"),
    ];
    for (row, column, value, expected) in cases {
        let i = refused(&format!("{head}{row}\n{obs}"));
        assert_located(&i, 2, column, value, expected);
    }
    // an observation without DVID whose CMT is not a compartment number
    let i = refused("ID,TIME,DV,CMT\n1,1,5,central\n");
    assert_located(&i, 2, "CMT", "central", "a whole compartment number");
}
