//! `cartkin merge`: join the shards of one simulation into the files of the unsharded
//! run.
//!
//! Checks: every directory has a run.json of a sharded `simulate` run; all have the same
//! model (sha256), settings and shard count N; shards 1..N each appear exactly once.
//! Then, in shard order: the bodies of `simulation.csv`, `endpoints.csv` and (when
//! present) `dataset.csv` are concatenated under one header — shards are contiguous
//! slices of subjects and every row depends only on its subject, so this gives the rows
//! of the unsharded run — and `summary.csv` and `endpoints_summary.csv` are computed
//! from the merged rows read back (numbers are written so that they read back exactly,
//! [`super::output::num`]), one subject at a time into the same bounded accumulators as
//! a run ([`super::summary::SummaryAccumulator`]). The merged files are byte-identical
//! to an unsharded run's; run.json records the shards it came from.
//!
//! Shards run with `--profiles none` have no `simulation.csv`: the merge then writes
//! `endpoints.csv` and `endpoints_summary.csv` but no `simulation.csv` and no
//! `summary.csv` (the exact percentiles need every profile), and says so in run.json
//! (`"profiles": "none"`).

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::endpoints::{EndpointAccumulator, EndpointRow, METRICS};
use super::output::{endpoints_header, simulation_header, write_endpoint_summary, write_summary};
use super::population::VirtualSubject;
use super::run::{SimulatedSubject, Simulation};
use super::stream::write_table;
use super::summary::SummaryAccumulator;
use super::SimulateError;
use crate::data::Analyte;
use crate::report::{sha256_file, AtomicFile, OutputDir, OutputError};

fn merge_err(dir: &Path, message: impl Into<String>) -> SimulateError {
    SimulateError::Merge {
        dir: dir.to_path_buf(),
        message: message.into(),
    }
}

fn read_back(file: &Path, line: usize, message: impl Into<String>) -> SimulateError {
    SimulateError::ReadBack {
        file: file.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn io_read(file: &Path, e: io::Error) -> SimulateError {
    read_back(file, 0, format!("cannot read: {e}"))
}

/// Read simulation.csv back (subjects in file order; times from the first subject).
pub fn read_simulation(path: &Path) -> Result<Simulation, SimulateError> {
    let mut subjects = Vec::new();
    let mut sim = for_each_subject(path, |_, s| {
        subjects.push(s);
        Ok(())
    })?;
    sim.subjects = subjects;
    Ok(sim)
}

/// Read simulation.csv back one subject at a time: `each` gets the times, analytes and
/// error flag read so far (a [`Simulation`] without subjects) and the next subject.
/// Returns that [`Simulation`] without subjects.
pub fn for_each_subject<F>(path: &Path, mut each: F) -> Result<Simulation, SimulateError>
where
    F: FnMut(&Simulation, SimulatedSubject) -> Result<(), SimulateError>,
{
    let f = fs::File::open(path).map_err(|e| io_read(path, e))?;
    let mut lines = BufReader::new(f).lines();
    let header = match lines.next() {
        Some(h) => h.map_err(|e| io_read(path, e))?,
        None => return Err(read_back(path, 1, "empty file: expected a header")),
    };
    let residual_error = match header.trim_end() {
        h if h == simulation_header(true) => true,
        h if h == simulation_header(false) => false,
        h => {
            return Err(read_back(
                path,
                1,
                format!("header '{h}': expected '{}'", simulation_header(false)),
            ))
        }
    };
    let mut sim = Simulation {
        times: Vec::new(),
        analytes: Vec::new(),
        lloq: Vec::new(),
        residual_error,
        subjects: Vec::new(),
    };
    // Rows of the current subject: (analyte index, time, value, cens).
    let mut rows: Vec<(usize, f64, f64, bool)> = Vec::new();
    let mut current: Option<(usize, f64)> = None;
    let mut finish = |sim: &mut Simulation,
                      rows: &mut Vec<(usize, f64, f64, bool)>,
                      id: usize,
                      dose: f64,
                      line: usize|
     -> Result<(), SimulateError> {
        if sim.times.is_empty() {
            let k0: Vec<f64> = rows.iter().filter(|r| r.0 == 0).map(|r| r.1).collect();
            sim.times = k0;
        }
        let (nt, na) = (sim.times.len(), sim.analytes.len());
        if rows.len() != nt * na {
            return Err(read_back(
                path,
                line,
                format!(
                    "subject {id}: {} rows, expected {nt} times x {na} analytes",
                    rows.len()
                ),
            ));
        }
        let mut values = vec![0.0; nt * na];
        let mut censored = vec![false; nt * na];
        for (j, &(k, time, v, c)) in rows.iter().enumerate() {
            let t = j % nt;
            if k != j / nt || time != sim.times[t] {
                return Err(read_back(
                    path,
                    line,
                    format!("subject {id}: rows not in analyte, time order"),
                ));
            }
            values[t * na + k] = v;
            censored[t * na + k] = c;
        }
        rows.clear();
        let subject = SimulatedSubject {
            id,
            dose,
            amount: f64::NAN,
            subject: VirtualSubject {
                index: id.saturating_sub(1),
                theta: Vec::new(),
                covariates: Vec::new(),
            },
            values,
            censored,
        };
        each(sim, subject)
    };
    let mut seen_subject = false;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        let line = line.map_err(|e| io_read(path, e))?;
        let f: Vec<&str> = line.split(',').collect();
        let want = if residual_error { 6 } else { 5 };
        if f.len() != want {
            return Err(read_back(
                path,
                line_no,
                format!("{} fields, expected {want}", f.len()),
            ));
        }
        let number = |i: usize, what: &str| {
            f[i].parse::<f64>().map_err(|_| {
                read_back(
                    path,
                    line_no,
                    format!("{what} '{}': expected a number", f[i]),
                )
            })
        };
        let id: usize = f[0].parse().map_err(|_| {
            read_back(
                path,
                line_no,
                format!("id '{}': expected a whole number", f[0]),
            )
        })?;
        let dose = number(1, "dose")?;
        let time = number(2, "time")?;
        let value = number(4, "value")?;
        let cens = residual_error && f[5] == "1";
        let analyte = Analyte::new(f[3]);
        let k = match sim.analytes.iter().position(|a| a == &analyte) {
            Some(k) => k,
            None if !seen_subject => {
                sim.analytes.push(analyte);
                sim.analytes.len() - 1
            }
            None => {
                return Err(read_back(
                    path,
                    line_no,
                    format!("analyte '{}' not in the first subject", f[3]),
                ))
            }
        };
        match current {
            Some((cid, cdose)) if cid != id => {
                finish(&mut sim, &mut rows, cid, cdose, line_no - 1)?;
                seen_subject = true;
                current = Some((id, dose));
            }
            None => current = Some((id, dose)),
            _ => {}
        }
        rows.push((k, time, value, cens));
    }
    if let Some((cid, cdose)) = current {
        finish(&mut sim, &mut rows, cid, cdose, line_no)?;
    }
    sim.lloq = vec![None; sim.analytes.len()];
    Ok(sim)
}

/// Read endpoints.csv back.
pub fn read_endpoints(path: &Path) -> Result<Vec<EndpointRow>, SimulateError> {
    let mut rows = Vec::new();
    for_each_endpoint(path, |r| rows.push(r))?;
    Ok(rows)
}

/// Read endpoints.csv back one row at a time.
pub fn for_each_endpoint<F>(path: &Path, mut each: F) -> Result<(), SimulateError>
where
    F: FnMut(EndpointRow),
{
    let mut r = csv::Reader::from_path(path).map_err(|e| read_back(path, 0, e.to_string()))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| read_back(path, 1, e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    if header != endpoints_header() {
        return Err(read_back(
            path,
            1,
            format!("header: expected '{}'", endpoints_header().join(",")),
        ));
    }
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| read_back(path, line, e.to_string()))?;
        let num = |j: usize| -> Result<Option<f64>, SimulateError> {
            let s = &rec[j];
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<f64>().map(Some).map_err(|_| {
                read_back(
                    path,
                    line,
                    format!("{} '{s}': expected a number", header[j]),
                )
            })
        };
        let id: usize = rec[0].parse().map_err(|_| {
            read_back(
                path,
                line,
                format!("id '{}': expected a whole number", &rec[0]),
            )
        })?;
        let dose = num(1)?.ok_or_else(|| read_back(path, line, "dose: missing"))?;
        let mut values = [None; 13];
        for (j, v) in values.iter_mut().enumerate() {
            *v = num(3 + j)?;
        }
        each(EndpointRow {
            id,
            dose,
            analyte: Analyte::new(&rec[2]),
            values,
            flags: rec[3 + METRICS.len()].to_string(),
        });
    }
    Ok(())
}

fn read_json(dir: &Path) -> Result<Value, SimulateError> {
    let path = dir.join("run.json");
    let text = fs::read_to_string(&path)
        .map_err(|e| merge_err(dir, format!("cannot read run.json: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| merge_err(dir, format!("run.json is not valid JSON: {e}")))
}

/// Concatenate `name` of every shard (header once) into `out`.
fn concatenate(dirs: &[PathBuf], name: &str, out: &Path) -> Result<(), SimulateError> {
    let mut file = AtomicFile::create(out)?;
    let mut header: Option<String> = None;
    let result = (|| -> io::Result<()> {
        for d in dirs {
            let f = fs::File::open(d.join(name))?;
            let mut lines = BufReader::new(f).lines();
            let h = lines.next().transpose()?.unwrap_or_default();
            match &header {
                None => {
                    writeln!(file, "{h}")?;
                    header = Some(h);
                }
                Some(first) if *first != h => {
                    return Err(io::Error::other(format!(
                        "{}: header differs from the first shard's",
                        d.join(name).display()
                    )))
                }
                _ => {}
            }
            for l in lines {
                writeln!(file, "{}", l?)?;
            }
        }
        Ok(())
    })();
    result.map_err(|e| SimulateError::Output(file.error(e)))?;
    file.commit()?;
    Ok(())
}

/// Dose levels and their subject counts from the settings of a run.json.
fn level_sizes(run: &Value) -> Vec<(f64, usize)> {
    run["settings"]["doses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| Some((l["dose"].as_f64()?, l["n"].as_u64()? as usize)))
                .collect()
        })
        .unwrap_or_default()
}

/// One shard directory of a run: its 1-based index, its path and its `run.json`.
pub type ShardDir = (usize, PathBuf, Value);

/// Make a shard's `run.json` that of the merged run: no `shard`, `merged_from` the shard
/// directories in order, `elapsed_seconds` summed over the shards.
pub fn mark_merged(run: &mut Value, shards: &[ShardDir]) {
    run["shard"] = Value::Null;
    run["merged_from"] = json!(shards
        .iter()
        .map(|s| s.1.display().to_string())
        .collect::<Vec<_>>());
    run["elapsed_seconds"] = json!(shards
        .iter()
        .map(|s| s.2["elapsed_seconds"].as_f64().unwrap_or(0.0))
        .sum::<f64>());
}

/// Read the `run.json` of every shard directory of a `cartkin COMMAND --shard i/N` run
/// and check that they make one whole run: all from `command`, every shard 1..=N present
/// exactly once, and the same `same` keys (model, settings, …) in each. The shards come
/// back in shard order.
pub fn check_shards(
    dirs: &[PathBuf],
    command: &str,
    same: &[&str],
) -> Result<Vec<ShardDir>, SimulateError> {
    let Some(first_dir) = dirs.first() else {
        return Err(merge_err(Path::new("."), "no shard directories given"));
    };
    let mut shards: Vec<ShardDir> = Vec::new();
    let mut count = None;
    for d in dirs {
        let v = read_json(d)?;
        if v["command"] != json!(command) {
            return Err(merge_err(
                d,
                format!("run.json is not from `cartkin {command}`"),
            ));
        }
        let (Some(i), Some(n)) = (v["shard"]["index"].as_u64(), v["shard"]["count"].as_u64())
        else {
            return Err(merge_err(d, format!("not a shard (run.json has no shard): expected the output of `cartkin {command} --shard i/N`")));
        };
        if *count.get_or_insert(n) != n {
            return Err(merge_err(
                d,
                format!("shard {i}/{n}: expected shards of {}", count.unwrap_or(n)),
            ));
        }
        if let Some((_, other, _)) = shards.iter().find(|s| s.0 == i as usize) {
            return Err(merge_err(
                d,
                format!("shard {i}/{n} also in {}", other.display()),
            ));
        }
        if let Some(f) = shards.first().map(|s| &s.2) {
            for key in same {
                if f[key] != v[key] {
                    return Err(merge_err(
                        d,
                        format!("its {key} differ from those of {}", first_dir.display()),
                    ));
                }
            }
        }
        shards.push((i as usize, d.clone(), v));
    }
    let n = count.unwrap_or(0) as usize;
    if shards.len() != n {
        let have: Vec<usize> = shards.iter().map(|s| s.0).collect();
        let missing: Vec<String> = (1..=n)
            .filter(|i| !have.contains(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        return Err(merge_err(
            first_dir,
            format!("missing shards: {}", missing.join(", ")),
        ));
    }
    shards.sort_by_key(|s| s.0);
    Ok(shards)
}

/// Merge the shard directories `dirs` into `out` (see the module header).
pub fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<(), SimulateError> {
    let shards = check_shards(
        dirs,
        "simulate",
        &["model", "settings", "as_dataset", "profiles"],
    )?;
    let ordered: Vec<PathBuf> = shards.iter().map(|s| s.1.clone()).collect();
    let template = shards[0].2.clone();
    let as_dataset = template["as_dataset"] == json!(true);
    // Shards written before `--profiles` existed have profiles.
    let profiles = template["profiles"] != json!("none");
    let mut all = Vec::new();
    if profiles {
        all.push("simulation.csv");
    }
    all.push("endpoints.csv");
    if as_dataset {
        all.push("dataset.csv");
    }
    for f in &all {
        concatenate(&ordered, f, &out.file(f))?;
    }
    if profiles {
        let sizes = level_sizes(&template);
        let path = out.file("simulation.csv");
        let mut acc: Option<SummaryAccumulator> = None;
        for_each_subject(&path, |sim, s| {
            let a = acc.get_or_insert_with(|| {
                SummaryAccumulator::new(&sim.times, &sim.analytes, sim.residual_error, &sizes)
            });
            a.add(&s)
                .map_err(|m| read_back(&path, 0, format!("{m} (run.json settings)")))
        })?;
        let rows = match acc {
            Some(a) => a.finish().map_err(|m| read_back(&path, 0, m))?,
            None => Vec::new(),
        };
        write_table(out, "summary.csv", |w| write_summary(&rows, w))?;
        all.push("summary.csv");
    }
    let mut es = EndpointAccumulator::default();
    for_each_endpoint(&out.file("endpoints.csv"), |r| es.add(&r))?;
    let es = es.finish();
    write_table(out, "endpoints_summary.csv", |w| {
        write_endpoint_summary(&es, w)
    })?;
    all.push("endpoints_summary.csv");
    let mut hashes = serde_json::Map::new();
    for f in all {
        let path = out.file(f);
        let h = sha256_file(&path).map_err(|source| OutputError::Io { path, source })?;
        hashes.insert(f.to_string(), json!(h));
    }
    let mut run = template;
    let total = run["settings"]["total_subjects"].as_u64().unwrap_or(0);
    mark_merged(&mut run, &shards);
    run["subjects"] = json!({"first_id": 1, "last_id": total, "count": total});
    run["files"] = Value::Object(hashes);
    let text = serde_json::to_string_pretty(&run).unwrap_or_default() + "\n";
    out.write("run.json", text.as_bytes())?;
    Ok(())
}
