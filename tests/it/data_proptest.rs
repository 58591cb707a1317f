//! Property tests of the CSV reader and writer, with a fixed number of cases and a fixed
//! ChaCha seed so that every run (and CI) sees the same inputs.
//!
//! 1. Random valid datasets: write → read gives the same dataset (300 cases).
//! 2. Mutated valid files (fields replaced by hostile tokens, lines deleted, duplicated
//!    or truncated, header names changed): the reader never panics; a refusal is an
//!    `Invalid` error with at least one error naming a line of the input; an accepted
//!    file round-trips (1,000 cases).
//! 3. Arbitrary bytes and arbitrary comma-separated text: never a panic, never an I/O
//!    error from an in-memory source (500 cases).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cartkin::data::{
    read_csv_from, write_csv, Analyte, CovariateValue, Covariates, DataError, Dataset, Dose,
    Loaded, Observation, ReadOptions, Subject,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

fn read(text: &[u8]) -> Result<Loaded, DataError> {
    read_csv_from(text, Path::new("p.csv"), &ReadOptions::default())
}

fn write(d: &Dataset) -> Vec<u8> {
    let mut buf = Vec::new();
    write_csv(d, &mut buf).expect("a generated dataset is writable");
    buf
}

// ---- strategies ---------------------------------------------------------------------

const ANALYTES: &[&str] = &["transgene", "b_cells", "igg", "cart_cells", "cd4_ratio"];
const TIMES: &[f64] = &[-7.0, 0.0, 0.1, 1.0 / 3.0, 1.0, 4.0, 7.5, 14.0, 28.0, 365.0];
const IDS: &[&str] = &["1", "01", "S-7", "a b", "x,y", "q\"t", "Ä1"];
const LEVELS: &[&str] = &["F", "M", "relma-cel", "two words", "a,b"];

fn positive() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1u32..100_000).prop_map(|k| f64::from(k) / 100.0),
        (1e-6f64..1e9),
        Just(20.0),
    ]
}

fn observation() -> impl Strategy<Value = Observation> {
    (
        0..TIMES.len(),
        0..ANALYTES.len(),
        prop_oneof![Just(0.0), positive()],
        any::<bool>(),
        proptest::option::of(positive()),
    )
        .prop_map(|(t, a, value, censored, lloq)| Observation {
            time: TIMES[t],
            analyte: Analyte::new(ANALYTES[a]),
            // a censored record's value is its limit, which must be positive
            value: if censored && value == 0.0 { 1.0 } else { value },
            censored,
            lloq,
            line: 0,
        })
}

fn dose() -> impl Strategy<Value = Dose> {
    (
        0..TIMES.len(),
        positive(),
        proptest::option::of(prop_oneof![Just("E".to_string()), Just("2".to_string())]),
        proptest::option::of(positive()),
    )
        .prop_map(|(t, amount, target, duration)| Dose {
            time: TIMES[t],
            amount,
            target,
            duration,
            line: 0,
        })
}

fn covariates() -> impl Strategy<Value = Covariates> {
    (
        proptest::option::of(positive()),
        proptest::option::of(0..LEVELS.len()),
        proptest::collection::btree_map(0..TIMES.len(), 1u32..200, 0..4),
    )
        .prop_map(|(age, sex, wt_steps)| {
            let mut c = Covariates::default();
            if let Some(a) = age {
                c.constant.insert("AGE".into(), CovariateValue::Numeric(a));
            }
            if let Some(s) = sex {
                c.constant
                    .insert("SEX".into(), CovariateValue::Categorical(LEVELS[s].into()));
            }
            // WT: one value = constant; several = steps with changing values.
            let mut steps: Vec<(f64, f64)> = Vec::new();
            for (t, w) in wt_steps {
                let w = f64::from(w) / 2.0;
                if steps.last().is_none_or(|(_, prev)| *prev != w) {
                    steps.push((TIMES[t], w));
                }
            }
            match steps.len() {
                0 => {}
                1 => {
                    c.constant
                        .insert("WT".into(), CovariateValue::Numeric(steps[0].1));
                }
                _ => {
                    c.varying.insert(
                        "WT".into(),
                        steps
                            .into_iter()
                            .map(|(t, w)| (t, CovariateValue::Numeric(w)))
                            .collect(),
                    );
                }
            }
            c
        })
}

fn subject(id: &'static str) -> impl Strategy<Value = Subject> {
    (
        proptest::collection::vec(observation(), 1..8),
        proptest::collection::vec(dose(), 0..3),
        covariates(),
    )
        .prop_map(move |(obs, doses, covariates)| {
            // one record per (time, analyte), sorted as the reader sorts them
            let mut seen = BTreeSet::new();
            let mut observations: Vec<Observation> = obs
                .into_iter()
                .filter(|o| seen.insert((o.time.to_bits(), o.analyte.clone())))
                .collect();
            observations.sort_by(|a, b| {
                a.time
                    .total_cmp(&b.time)
                    .then_with(|| a.analyte.cmp(&b.analyte))
            });
            let mut doses = doses;
            doses.sort_by(|a, b| a.time.total_cmp(&b.time));
            Subject {
                id: id.to_string(),
                observations,
                doses,
                covariates,
            }
        })
}

fn dataset() -> impl Strategy<Value = Dataset> {
    proptest::sample::subsequence(IDS.to_vec(), 1..4)
        .prop_flat_map(|ids| ids.into_iter().map(subject).collect::<Vec<_>>())
        .prop_map(|subjects| Dataset {
            source: Default::default(),
            subjects,
            covariate_names: vec!["WT".into(), "AGE".into(), "SEX".into()],
        })
}

/// A hostile replacement for one field.
const TOKENS: &[&str] = &[
    "",
    ".",
    "NA",
    "abc",
    "-1",
    "-0",
    "0",
    "1",
    "2",
    "3",
    "inf",
    "-inf",
    "NaN",
    "1e309",
    "<20",
    "<",
    "<abc",
    "<-5",
    "BLQ",
    "bql",
    "<LLOQ",
    "\"",
    "\"\"",
    ",",
    " ",
    "1,2",
    "\n",
    "\r\n",
    "#",
    "\u{feff}",
    "é",
    "9999999999999999999999",
    "0x10",
    "1_000",
    "+5",
    "1e-320",
    "transgene",
    "b_cells",
    "evid",
    "ID",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace field `col` of line `line` by `TOKENS[token]`.
    Field {
        line: usize,
        col: usize,
        token: usize,
    },
    /// Delete a line.
    Delete(usize),
    /// Duplicate a line.
    Duplicate(usize),
    /// Cut the text at a byte fraction.
    Truncate(f64),
    /// Swap two lines.
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (0usize..64, 0usize..16, 0..TOKENS.len())
            .prop_map(|(line, col, token)| Mutation::Field { line, col, token }),
        1 => (0usize..64).prop_map(Mutation::Delete),
        1 => (0usize..64).prop_map(Mutation::Duplicate),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
        1 => (0usize..64, 0usize..64).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *m {
            Mutation::Field { line, col, token } => {
                let l = &mut lines[line % n];
                // naive split on commas: quoted fields may be cut, which is part of the fun
                let mut fields: Vec<String> = l.split(',').map(str::to_string).collect();
                let k = col % fields.len();
                fields[k] = TOKENS[token].to_string();
                *l = fields.join(",");
            }
            Mutation::Delete(i) => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::Truncate(f) => {
                let joined = lines.join("\n");
                let mut cut = (joined.len() as f64 * f) as usize;
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
            Mutation::Swap(a, b) => lines.swap(a % n, b % n),
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

// ---- properties -----------------------------------------------------------------------

/// An accepted file round-trips; a refused one is `Invalid` with errors on real lines.
fn check_outcome(text: &[u8]) -> Result<(), TestCaseError> {
    let n_lines = text.iter().filter(|b| **b == b'\n').count() + 1;
    match read(text) {
        Ok(loaded) => {
            let written = write(&loaded.dataset);
            let again = read(&written).map_err(|e| {
                TestCaseError::fail(format!(
                    "rewritten file refused: {e}\n{}",
                    String::from_utf8_lossy(&written)
                ))
            })?;
            prop_assert_eq!(
                loaded.dataset.without_provenance(),
                again.dataset.without_provenance()
            );
        }
        Err(DataError::Invalid { issues, .. }) => {
            prop_assert!(
                issues.iter().any(|i| i.is_error()),
                "refused without an error"
            );
            for i in &issues {
                prop_assert!(i.line <= n_lines, "line {} of {}: {}", i.line, n_lines, i);
                prop_assert!(!i.expected.is_empty());
            }
        }
        Err(e) => prop_assert!(false, "in-memory input gave a non-data error: {e}"),
    }
    Ok(())
}

#[test]
fn random_valid_datasets_round_trip() {
    runner(300, 1)
        .run(&dataset(), |d| {
            let text = write(&d);
            let loaded = read(&text).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&text)))
            })?;
            prop_assert_eq!(&loaded.dataset.without_provenance(), &d);
            prop_assert_eq!(write(&loaded.dataset), text);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn mutated_files_never_panic_and_fail_with_located_errors() {
    let strategy = (dataset(), proptest::collection::vec(mutation(), 1..5));
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    runner(1_000, 2)
        .run(&strategy, |(d, mutations)| {
            let text = String::from_utf8(write(&d)).expect("UTF-8");
            let mutated = apply(&text, &mutations);
            check_outcome(mutated.as_bytes())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // The mutations must exercise both outcomes (checked on a fixed sample).
    let mut rng = runner(200, 3);
    for _ in 0..200 {
        let tree = strategy.new_tree(&mut rng).expect("strategy");
        let (d, mutations) = tree.current();
        let text = String::from_utf8(write(&d)).expect("UTF-8");
        let outcome = if read(apply(&text, &mutations).as_bytes()).is_ok() {
            "accepted"
        } else {
            "refused"
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    assert!(
        outcomes.get("accepted").copied().unwrap_or(0) >= 10,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("refused").copied().unwrap_or(0) >= 10,
        "{outcomes:?}"
    );
}

#[test]
fn arbitrary_bytes_and_text_never_panic() {
    let bytes = proptest::collection::vec(any::<u8>(), 0..400);
    runner(250, 4)
        .run(&bytes, |b| check_outcome(&b))
        .unwrap_or_else(|e| panic!("{e}"));
    let text = (
        prop_oneof![
            Just(String::new()),
            Just("ID,TIME,DV,DVID,CENS,LLOQ,EVID,AMT,WT\n".to_string()),
            Just("subject,day,value,analyte\n".to_string()),
        ],
        "[A-Za-z0-9,.<\"\n #-]{0,300}",
    )
        .prop_map(|(h, body)| format!("{h}{body}"));
    runner(250, 5)
        .run(&text, |t| check_outcome(t.as_bytes()))
        .unwrap_or_else(|e| panic!("{e}"));
}
