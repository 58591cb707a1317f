//! Validation rules of the data layer, checked on the structured issues (line, column,
//! value, severity) rather than on message text. Each input is written by hand so the
//! expected line and column can be read off it (header = line 1).

use std::path::Path;

use cartkin::data::{read_csv_from, DataError, Issue, Loaded, ReadOptions, Severity};

fn read(text: &str) -> Result<Loaded, DataError> {
    read_csv_from(text.as_bytes(), Path::new("v.csv"), &ReadOptions::default())
}

/// The issues of a refused file.
fn refused(text: &str) -> Vec<Issue> {
    match read(text) {
        Ok(l) => panic!(
            "expected a refusal, got {} subjects",
            l.dataset.subjects.len()
        ),
        Err(DataError::Invalid { issues, .. }) => issues,
        Err(e) => panic!("expected Invalid, got {e}"),
    }
}

/// (line, column, value, severity) of each issue.
fn located(issues: &[Issue]) -> Vec<(usize, &str, Option<&str>, Severity)> {
    issues
        .iter()
        .map(|i| (i.line, i.column.as_str(), i.value.as_deref(), i.severity))
        .collect()
}

fn has(issues: &[Issue], line: usize, column: &str, severity: Severity) -> bool {
    issues
        .iter()
        .any(|i| i.line == line && i.column == column && i.severity == severity)
}

#[test]
fn missing_values_bom_and_case_are_accepted() {
    // BOM before the header, lower-case names, "." and "NA" as missing fields.
    let l =
        read("\u{feff}id,time,dv,dvid,evid,amt,wt\n1,0,.,NA,1,5e7,70\n1,7,100,TRANSGENE,0,.,NA\n")
            .expect("valid");
    let s = &l.dataset.subjects[0];
    assert_eq!(s.doses[0].amount, 5e7);
    assert_eq!(s.observations[0].analyte.name(), "transgene");
    assert_eq!(s.covariates.numeric("WT", 7.0), Some(70.0));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn header_problems_are_each_reported_on_line_1() {
    let issues = refused("ID,TIME,DV,value,DVID,wt,WT\n1,0,1,1,igg,70,70\n");
    assert_eq!(
        located(&issues),
        vec![
            (1, "value", Some("value"), Severity::Error),
            (1, "WT", Some("WT"), Severity::Error),
        ]
    );
    let issues = refused("ID,TIME,DV,DVID,\n1,0,1,igg,\n");
    assert_eq!(located(&issues), vec![(1, "#5", Some(""), Severity::Error)]);
}

#[test]
fn censoring_contradictions_are_refused() {
    let issues = refused(
        "ID,TIME,DV,DVID,CENS,LLOQ,DOSE\n\
         1,1,<20,transgene,,25,5e7\n\
         1,2,BLQ,transgene,0,20,5e7\n\
         1,3,<0,transgene,,,5e7\n\
         1,4,0,transgene,1,,5e7\n\
         1,5,10,transgene,0,0,5e7\n",
    );
    assert_eq!(
        located(&issues),
        vec![
            (2, "DV", Some("<20"), Severity::Error),
            (3, "CENS", Some("0"), Severity::Error),
            (4, "DV", Some("<0"), Severity::Error),
            (5, "DV", Some("0"), Severity::Error),
            (6, "LLOQ", Some("0"), Severity::Error),
        ]
    );
}

#[test]
fn censoring_warnings_keep_the_record() {
    let l = read(
        "ID,TIME,DV,DVID,CENS,LLOQ,DOSE\n\
         1,1,15,transgene,0,20,5e7\n\
         1,2,25,transgene,1,20,5e7\n",
    )
    .expect("valid with warnings");
    let obs = &l.dataset.subjects[0].observations;
    assert_eq!((obs[0].value, obs[0].censored), (15.0, false));
    assert_eq!(
        (obs[1].value, obs[1].censored, obs[1].lloq),
        (25.0, true, Some(20.0))
    );
    assert!(has(&l.warnings, 2, "DV", Severity::Warning));
    assert!(has(&l.warnings, 3, "DV", Severity::Warning));
}

#[test]
fn dose_rules() {
    let issues = refused(
        "ID,TIME,DV,DVID,EVID,AMT,RATE,DUR\n\
         1,0,,,1,5e7,1e8,0.5\n\
         1,0.5,,,1,5e7,-1,\n\
         1,7,100,transgene,0,5e7,,\n\
         1,8,100,transgene,0,,,\n",
    );
    assert_eq!(
        located(&issues),
        vec![
            (2, "RATE", Some("1e8"), Severity::Error),
            (3, "RATE", Some("-1"), Severity::Error),
            (4, "AMT", Some("5e7"), Severity::Error),
        ]
    );
}

#[test]
fn per_subject_dose_covariates() {
    // DOSE changing within a subject without dose records; DOSE_PER_KG without WT.
    let issues = refused(
        "ID,TIME,DV,DVID,DOSE,DOSE_PER_KG\n\
         1,1,100,transgene,5e7,\n\
         1,2,100,transgene,1e8,\n\
         2,1,100,transgene,,1e5\n",
    );
    assert!(has(&issues, 2, "DOSE", Severity::Error), "{issues:#?}");
    assert!(has(&issues, 4, "WT", Severity::Error), "{issues:#?}");
    assert_eq!(issues.iter().filter(|i| i.is_error()).count(), 2);
}

#[test]
fn warnings_for_split_subjects_mixed_columns_and_missing_doses() {
    let l = read(
        "ID,TIME,DV,DVID,SITE\n\
         1,1,100,transgene,12\n\
         2,1,100,transgene,north\n\
         1,2,90,transgene,12\n",
    )
    .expect("valid with warnings");
    // subject 1 again on line 4; SITE mixes text (line 3) and numbers; no doses at all.
    assert!(
        has(&l.warnings, 4, "ID", Severity::Warning),
        "{:#?}",
        l.warnings
    );
    assert!(
        has(&l.warnings, 3, "SITE", Severity::Warning),
        "{:#?}",
        l.warnings
    );
    assert!(
        has(&l.warnings, 2, "ID", Severity::Warning),
        "{:#?}",
        l.warnings
    );
    assert_eq!(l.dataset.subjects.len(), 2);
    assert_eq!(l.dataset.subjects[0].observations.len(), 2);
    assert_eq!(l.dataset.subjects[0].covariates.level("SITE"), Some("12"));
}

#[test]
fn every_issue_of_a_bad_file_is_listed_in_line_order() {
    let issues = refused(
        "ID,TIME,DV,DVID,EVID,AMT,AGE\n\
         ,0,,,1,5e7,40\n\
         1,1,100,transgene,5,,40\n\
         1,2,100,transgene,0,,-40\n\
         1,3,100,,0,,40\n",
    );
    assert_eq!(
        located(&issues),
        vec![
            (2, "ID", Some(""), Severity::Error),
            (3, "EVID", Some("5"), Severity::Error),
            (4, "AGE", Some("-40"), Severity::Error),
            (5, "DVID", Some(""), Severity::Error),
        ]
    );
}

#[test]
fn a_bad_analyte_does_not_hide_a_bad_value_on_the_same_row() {
    let issues = refused("ID,TIME,DV,DVID,DOSE\n1,1,abc,,5e7\n1,2,5,igg,5e7\n");
    assert_eq!(
        located(&issues),
        vec![
            (2, "DVID", Some(""), Severity::Error),
            (2, "DV", Some("abc"), Severity::Error),
        ]
    );
}

#[test]
fn a_bad_time_does_not_hide_a_bad_value_on_the_same_row() {
    let issues = refused("ID,TIME,DV,DVID,DOSE\n1,x,-3,igg,5e7\n1,2,5,igg,5e7\n");
    assert_eq!(
        located(&issues),
        vec![
            (2, "TIME", Some("x"), Severity::Error),
            (2, "DV", Some("-3"), Severity::Error),
        ]
    );
}
