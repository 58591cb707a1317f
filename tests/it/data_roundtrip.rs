//! Round trip of the long CSV format: read → write → read gives the same dataset (up to
//! file name and line numbers), and writing is a fixed point (write → read → write gives
//! the same bytes). Expected texts below are written by hand from the format's rules
//! (src/data/writer.rs header).

use std::collections::BTreeMap;
use std::path::Path;

use cartkin::data::{
    read_csv, read_csv_from, write_csv, Analyte, CovariateValue, Covariates, Dataset, Dose, Loaded,
    Observation, ReadOptions, Subject,
};

fn read_text(text: &str) -> Loaded {
    match read_csv_from(
        text.as_bytes(),
        Path::new("mem.csv"),
        &ReadOptions::default(),
    ) {
        Ok(l) => l,
        Err(e) => panic!("expected a valid dataset:\n{e}"),
    }
}

fn write_text(d: &Dataset) -> String {
    let mut buf = Vec::new();
    write_csv(d, &mut buf).expect("writable dataset");
    String::from_utf8(buf).expect("UTF-8 output")
}

/// read → write → read equals, and write is a fixed point.
fn assert_round_trip(first: &Dataset) {
    let written = write_text(first);
    let second = read_text(&written).dataset;
    assert_eq!(
        first.without_provenance(),
        second.without_provenance(),
        "written:\n{written}"
    );
    assert_eq!(written, write_text(&second), "writing is not a fixed point");
}

#[test]
fn bundled_example_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.csv");
    let loaded = read_csv(&path).expect("example is valid");
    // 18 subjects x 14 visits x 3 analytes = 756 observations (data/README.md; also
    // awk -F, 'NR>1 && $7==0' data/example.csv | wc -l).
    assert_eq!(loaded.dataset.subjects.len(), 18);
    assert_eq!(loaded.dataset.n_observations(), 756);
    assert_round_trip(&loaded.dataset);
}

/// Every feature of the reader in one file: aliases, text censoring, EVID 2 and MDV rows
/// carrying a time-varying covariate, CMT/RATE/DUR doses, per-kg doses, user analytes.
const RICH: &str = "\
Subject,Day,Value,Analyte,BLQ,LOQ,EVID,Dose_cells,MDV,CMT,RATE,DUR,WT,SEX,DOSE_PER_KG,SITE
A,-7,120,b_cells,0,1,0,,0,,,,70,F,,01
A,0,,,,,1,5e7,1,E,,0.5,70,F,,01
A,1,BLQ,transgene,,20,0,,0,,,,70,F,,01
A,7,<20,transgene,,,0,,0,,,,,F,,01
A,14,3000,transgene,0,20,0,,0,,,,,F,,01
A,20,,,,,2,,1,,,,72.5,F,,01
A,28,,b_cells,1,1,0,,0,,,,72.5,F,,01
A,30,,,,,0,,1,,,,74,F,,01
A,56,15.5,cd4_cd8,0,,0,,0,,,,74,F,,01
B,0,,,,,1,1e8,,2,2e8,,80,M,,02
B,3,42,transgene,0,20,0,,0,,,,80,M,,02
C,1,0.02,igg,0,,0,,0,,,,,F,1e6,03
C,2,5,igg,0,,0,,0,,,,60,F,1e6,03
";

#[test]
fn rich_file_is_read_as_written_by_hand() {
    let loaded = read_text(RICH);
    let d = &loaded.dataset;
    assert_eq!(d.covariate_names, vec!["WT", "SEX", "DOSE_PER_KG", "SITE"]);
    let a = d.subject("A").expect("subject A");
    // Observations sorted by time then analyte; censored values are the limits.
    let obs: Vec<(f64, &str, f64, bool, Option<f64>)> = a
        .observations
        .iter()
        .map(|o| (o.time, o.analyte.name(), o.value, o.censored, o.lloq))
        .collect();
    assert_eq!(
        obs,
        vec![
            (-7.0, "b_cells", 120.0, false, Some(1.0)),
            (1.0, "transgene", 20.0, true, Some(20.0)),
            (7.0, "transgene", 20.0, true, None),
            (14.0, "transgene", 3000.0, false, Some(20.0)),
            (28.0, "b_cells", 1.0, true, Some(1.0)),
            (56.0, "cd4_cd8", 15.5, false, None),
        ]
    );
    assert_eq!(a.observations[1].line, 4);
    assert_eq!(
        a.doses,
        vec![Dose {
            time: 0.0,
            amount: 5e7,
            target: Some("E".into()),
            duration: Some(0.5),
            line: 3
        }]
    );
    // WT steps at day -7 (70), 20 (72.5, from the EVID 2 row), 30 (74, from the MDV row).
    let wt = a.covariates.varying.get("WT").expect("WT varies in A");
    assert_eq!(
        wt,
        &vec![
            (-7.0, CovariateValue::Numeric(70.0)),
            (20.0, CovariateValue::Numeric(72.5)),
            (30.0, CovariateValue::Numeric(74.0)),
        ]
    );
    assert_eq!(a.covariates.numeric("WT", 25.0), Some(72.5));
    assert_eq!(a.covariates.level("SEX"), Some("F"));
    // "01" is a number: SITE is numeric.
    assert_eq!(a.covariates.numeric("SITE", 0.0), Some(1.0));
    // B: RATE 2e8 cells/day for 1e8 cells = 0.5 day infusion into CMT 2.
    let b = d.subject("B").expect("subject B");
    assert_eq!(b.doses[0].duration, Some(0.5));
    assert_eq!(b.doses[0].target.as_deref(), Some("2"));
    // C: no dose record, DOSE_PER_KG 1e6 × WT 60 = 6e7 cells at time 0 (line 0: derived).
    let c = d.subject("C").expect("subject C");
    assert_eq!(
        c.doses,
        vec![Dose {
            time: 0.0,
            amount: 6e7,
            target: None,
            duration: None,
            line: 0
        }]
    );
    // Set aside: the EVID 2 row (line 7) and the MDV row (line 9), each explained.
    let skipped: Vec<usize> = loaded.skipped.iter().map(|s| s.line).collect();
    assert_eq!(skipped, vec![7, 9]);
    // Warnings: the user analyte and the two set-aside reasons.
    let text: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text.iter()
            .any(|w| w.contains("mem.csv:10: column Analyte: value 'cd4_cd8'")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|w| w.contains("1 record set aside: EVID 2")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|w| w.contains("1 record set aside: MDV 1")),
        "{text:#?}"
    );
}

#[test]
fn rich_file_round_trips() {
    assert_round_trip(&read_text(RICH).dataset);
}

/// A dataset built in memory is written exactly as the format's rules say.
#[test]
fn in_memory_dataset_is_written_as_expected() {
    let mut constant = BTreeMap::new();
    constant.insert("SEX".to_string(), CovariateValue::Categorical("F".into()));
    let mut varying = BTreeMap::new();
    varying.insert(
        "WT".to_string(),
        vec![
            (0.0, CovariateValue::Numeric(70.0)),
            (10.0, CovariateValue::Numeric(68.5)),
        ],
    );
    let obs =
        |time: f64, analyte: &str, value: f64, censored: bool, lloq: Option<f64>| Observation {
            time,
            analyte: Analyte::new(analyte),
            value,
            censored,
            lloq,
            line: 0,
        };
    let d = Dataset {
        source: Default::default(),
        subjects: vec![Subject {
            id: "P1".into(),
            observations: vec![
                obs(-7.0, "b_cells", 88.0, false, None),
                obs(7.0, "transgene", 20.0, true, Some(20.0)),
                obs(14.0, "transgene", 1234.5, false, Some(20.0)),
            ],
            doses: vec![Dose {
                time: 0.0,
                amount: 2.5e7,
                target: None,
                duration: None,
                line: 0,
            }],
            covariates: Covariates { constant, varying },
        }],
        covariate_names: vec!["WT".into(), "SEX".into()],
    };
    let expected = "\
ID,TIME,DV,DVID,CENS,LLOQ,EVID,AMT,WT,SEX
P1,-7,88,b_cells,0,,0,,,F
P1,0,,,,,1,25000000,70,F
P1,7,20,transgene,1,20,0,,70,F
P1,10,,,,,2,,68.5,F
P1,14,1234.5,transgene,0,20,0,,68.5,F
";
    assert_eq!(write_text(&d), expected);
    let back = read_text(expected).dataset;
    assert_eq!(back.without_provenance(), d);
}

#[test]
fn unwritable_datasets_are_errors_not_panics() {
    let mut d = read_text(RICH).dataset;
    d.subjects[0].observations[0].value = f64::NAN;
    let err = write_csv(&d, Vec::new()).expect_err("NaN cannot be written");
    assert!(err.to_string().contains("subject A"), "{err}");
    let mut d = read_text(RICH).dataset;
    d.subjects[1].doses[0].amount = 0.0;
    assert!(write_csv(&d, Vec::new()).is_err());
}
