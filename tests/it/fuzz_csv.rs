//! Fuzzing of dataset files: generated CSV inputs go through the reader (parsing,
//! column resolution, validation, assembly into subjects), the summary and the writer,
//! and none may panic.
//!
//! Two generators, each with a fixed ChaCha seed so every run (and CI) sees the same
//! inputs:
//! 1. slices of `data/example.csv` (the header and a run of rows), mutated: fields
//!    replaced by odd values (`NaN`, `inf`, `1e400`, `-0`, huge ids, empty, quotes,
//!    unicode), fields dropped or added (ragged rows), rows deleted, duplicated or
//!    swapped, the text truncated, then re-encoded: UTF-8 BOM, CRLF or CR line ends,
//!    Latin-1 or UTF-16 bytes, random bytes spliced in;
//! 2. random tables with NONMEM-style columns (ID, TIME, DV, DVID, MDV, EVID, AMT, CMT,
//!    RATE, DUR, ADDL, II, SS, CENS, LLOQ and covariates, under their aliases and in any
//!    order and case) filled from the same pool of odd values.
//!
//! Each input is read with the default options and with an explicit DVID map, under
//! `catch_unwind`; a panic fails the test and prints the input. A refusal must be a data
//! error (never an I/O error from an in-memory source).

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use cartkin::data::{read_csv_from, write_csv, DataError, DvidMap, ReadOptions, Summary};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Generated inputs per generator (the issue asks for at least 10,000 CSV files).
const MUTATION_CASES: u32 = 6_000;
const TABLE_CASES: u32 = 4_000;

fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 500,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// Read `bytes` with both option sets; summarise and write what is accepted. Returns
/// whether the default read accepted the file.
fn check(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let shown = || String::from_utf8_lossy(bytes).into_owned();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mapped = ReadOptions {
            dvid_map: DvidMap::parse("1=transgene,2=b_cells,3=igg").expect("a valid map"),
        };
        let mut accepted = false;
        for (k, options) in [ReadOptions::default(), mapped].iter().enumerate() {
            match read_csv_from(bytes, Path::new("fuzz.csv"), options) {
                Ok(loaded) => {
                    accepted |= k == 0;
                    let _ = Summary::of(&loaded);
                    let mut out = Vec::new();
                    write_csv(&loaded.dataset, &mut out).map_err(|e| format!("write: {e}"))?;
                }
                Err(DataError::Invalid { .. }) => {}
                Err(e) => return Err(format!("not a data error: {e}")),
            }
        }
        Ok(accepted)
    }));
    match outcome {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(msg)) => Err(TestCaseError::fail(format!("{msg} on input:\n{}", shown()))),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Err(TestCaseError::fail(format!(
                "panic `{msg}` on input:\n{}",
                shown()
            )))
        }
    }
}

/// Field values that stress number parsing, ids, flags and quoting.
const ODD: &[&str] = &[
    "",
    " ",
    ".",
    "NA",
    "na",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "0",
    "-0.0",
    "1",
    "2",
    "-1",
    "0.5",
    "1e308",
    "4.9e-324",
    "3",
    "100",
    "99999999999999999999999",
    "-9223372036854775809",
    "18446744073709551616",
    "1.5",
    "1,5",
    "BLQ",
    "<0.1",
    "<LLOQ",
    "transgene",
    "b_cells",
    "igg",
    "cart_cells",
    "unknown",
    "T",
    "F",
    "M",
    "\"",
    "\"\"",
    "\"a,b\"",
    "\"unterminated",
    "é",
    "Ä1",
    "∞",
    "\t",
    "x\u{0}y",
    " 7 ",
    "0x10",
    "1_000",
    "+5",
    "1e",
    "--1",
];

// ---- 1. mutated slices of the example dataset ---------------------------------------

#[derive(Debug, Clone)]
enum Edit {
    Field(Index, Index, &'static str),
    DropField(Index, Index),
    AddField(Index, &'static str),
    DeleteRow(Index),
    DuplicateRow(Index),
    SwapRows(Index, Index),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let odd = || prop::sample::select(ODD);
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), odd()).prop_map(|(r, c, v)| Edit::Field(r, c, v)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(r, c)| Edit::DropField(r, c)),
        1 => (any::<Index>(), odd()).prop_map(|(r, v)| Edit::AddField(r, v)),
        1 => any::<Index>().prop_map(Edit::DeleteRow),
        1 => any::<Index>().prop_map(Edit::DuplicateRow),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapRows(a, b)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// How the text becomes bytes.
#[derive(Debug, Clone)]
enum Encoding {
    Utf8,
    Bom,
    Crlf,
    Cr,
    Latin1,
    Utf16,
    /// Random bytes inserted at a position.
    Splice(Index, Vec<u8>),
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        6 => Just(Encoding::Utf8),
        1 => Just(Encoding::Bom),
        1 => Just(Encoding::Crlf),
        1 => Just(Encoding::Cr),
        1 => Just(Encoding::Latin1),
        1 => Just(Encoding::Utf16),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Encoding::Splice(i, b)),
    ]
}

fn encode(text: &str, enc: &Encoding) -> Vec<u8> {
    match enc {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Encoding::Crlf => text.replace('\n', "\r\n").into_bytes(),
        Encoding::Cr => text.replace('\n', "\r").into_bytes(),
        // characters beyond Latin-1 become `?`
        Encoding::Latin1 => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
        Encoding::Utf16 => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect(),
        Encoding::Splice(i, bytes) => {
            let mut b = text.as_bytes().to_vec();
            let at = i.index(b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
            b
        }
    }
}

fn mutate(header: &str, rows: &[&str], edits: &[Edit]) -> String {
    let mut table: Vec<Vec<String>> = std::iter::once(header)
        .chain(rows.iter().copied())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    for e in edits {
        let n = table.len();
        if n == 0 {
            break;
        }
        match e {
            Edit::Field(r, c, v) => {
                let row = &mut table[r.index(n)];
                if !row.is_empty() {
                    let k = c.index(row.len());
                    row[k] = v.to_string();
                }
            }
            Edit::DropField(r, c) => {
                let row = &mut table[r.index(n)];
                if !row.is_empty() {
                    row.remove(c.index(row.len()));
                }
            }
            Edit::AddField(r, v) => table[r.index(n)].push(v.to_string()),
            Edit::DeleteRow(r) => {
                table.remove(r.index(n));
            }
            Edit::DuplicateRow(r) => {
                let row = table[r.index(n)].clone();
                table.insert(r.index(n), row);
            }
            Edit::SwapRows(a, b) => table.swap(a.index(n), b.index(n)),
            Edit::Truncate(r) => table.truncate(r.index(n) + 1),
        }
    }
    let mut s: String = table
        .iter()
        .map(|r| r.join(","))
        .collect::<Vec<_>>()
        .join("\n");
    s.push('\n');
    s
}

#[test]
fn mutated_example_slices_never_panic() {
    let text = std::fs::read_to_string(crate::common::repo_file("data/example.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let strategy = (
        any::<Index>(),
        1usize..40,
        prop::collection::vec(edit(), 0..6),
        encoding(),
    );
    let accepted = Cell::new(0u32);
    runner(MUTATION_CASES, 21)
        .run(&strategy, |(start, len, edits, enc)| {
            let from = start.index(rows.len());
            let slice = &rows[from..(from + len).min(rows.len())];
            let ok = check(&encode(&mutate(&header, slice, &edits), &enc))?;
            accepted.set(accepted.get() + u32::from(ok));
            Ok(())
        })
        .unwrap();
    // Some files must get through validation to assembly and the summary, or the test
    // would only exercise the first checks.
    let accepted = accepted.get();
    eprintln!("{accepted} of {MUTATION_CASES} inputs accepted");
    assert!(
        accepted > MUTATION_CASES / 20,
        "only {accepted} files accepted"
    );
}

// ---- 2. random NONMEM-style tables --------------------------------------------------

/// Column names: the roles under their names and aliases, covariates, unknown columns.
const COLUMNS: &[&str] = &[
    "ID",
    "id",
    "SUBJECT",
    "USUBJID",
    "TIME",
    "DAY",
    "time_days",
    "DV",
    "VALUE",
    "CONC",
    "DVID",
    "ANALYTE",
    "YTYPE",
    "CENS",
    "BLQ",
    "LLOQ",
    "LOQ",
    "EVID",
    "MDV",
    "AMT",
    "DOSE_CELLS",
    "CMT",
    "RATE",
    "DUR",
    "ADDL",
    "II",
    "SS",
    "WT",
    "AGE",
    "SEX",
    "DOSE",
    "PRODUCT",
    "C",
    "",
    "ID",
];

/// Values that fit the columns, mixed with the odd ones.
const PLAIN: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "1",
    "0",
    "7",
    "14",
    "28",
    "-7",
    "0.5",
    "25000000",
    "1e8",
    "62.5",
    "transgene",
    "b_cells",
    "igg",
    "1",
    "2",
    "F",
    "M",
    "",
];

fn table() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        3 => prop::sample::select(PLAIN),
        1 => prop::sample::select(ODD),
    ];
    (
        prop::collection::vec(prop::sample::select(COLUMNS), 1..12),
        prop::collection::vec((prop::collection::vec(value, 14), any::<u8>()), 0..30),
    )
        .prop_map(|(header, rows)| {
            let mut s = header.join(",");
            for (r, k) in rows {
                // mostly as wide as the header, sometimes ragged
                let width = if k < 220 {
                    header.len()
                } else {
                    usize::from(k) % 14
                };
                s.push('\n');
                s += &r[..width].join(",");
            }
            s.push('\n');
            s
        })
}

#[test]
fn random_nonmem_tables_never_panic() {
    let strategy = (table(), encoding());
    runner(TABLE_CASES, 22)
        .run(&strategy, |(text, enc)| {
            check(&encode(&text, &enc))?;
            Ok(())
        })
        .unwrap();
}
