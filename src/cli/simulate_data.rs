//! `cartkin simulate --data DATA.csv --model M [--typical | --n N]`: simulate at the
//! records of a dataset (see [`cartkin::simulate::records`]) → `records.csv` and
//! `run.json`.
//!
//! `records.csv` has one row per replicate × observation record:
//! `REP,ID,TIME,DVID,IPRED,DV,CENS` — replicate (0 for `--typical`), subject, time in
//! the model's unit, analyte, prediction, simulated value (the prediction without
//! `--with-error`; the LLOQ when censored) and 1 when censored. `run.json` states the
//! time unit (`time_unit`, the model's; `inputs.data.time_unit`, the data's).
//!
//! With `--as-dataset` (one replicate, or `--typical`), `dataset.csv` is the data file
//! itself with the DV of each observation record replaced by its simulated value (and
//! CENS set to 1 for a censored one when the file has a CENS column): every other
//! field, the comments and the line order are kept, so the result is a NONMEM dataset
//! in the data's own columns and time unit.

use std::io::Write;
use std::time::Instant;

use serde_json::json;

use super::input;
use super::simulate::{fitted_model, name_value, read_omega, SimulateArgs};
use super::CliError;
use cartkin::model::{Model, Predict};
use cartkin::report::{sha256_file, sha256_hex};
use cartkin::simulate::output::num;
use cartkin::simulate::records::{simulate_records, RecordsError};
use cartkin::simulate::{Omega, Population};

/// The data file with the DV (and CENS) field of each simulated record's line replaced.
fn rewrite_dv(
    data: &std::path::Path,
    rows: &[cartkin::simulate::records::RecordRow],
) -> Result<String, CliError> {
    let text = std::fs::read_to_string(data)
        .map_err(|e| input(format!("cannot read {}: {e}", data.display())))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header_at = lines
        .iter()
        .position(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .ok_or_else(|| input(format!("{}: no header line", data.display())))?;
    let header: Vec<String> = lines[header_at]
        .split(',')
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let column = |role: cartkin::data::Role| {
        header
            .iter()
            .position(|h| cartkin::data::Role::of_name(h) == Some(role))
    };
    let dv = column(cartkin::data::Role::Dv)
        .ok_or_else(|| input(format!("{}: no DV column", data.display())))?;
    let cens = column(cartkin::data::Role::Cens);
    for r in rows {
        let Some(line) = r.line.checked_sub(1).and_then(|i| lines.get_mut(i)) else {
            continue;
        };
        if line.contains('"') {
            return Err(input(format!(
                "{}:{}: --as-dataset rewrites plain comma-separated lines; this one has quoted fields",
                data.display(),
                r.line
            )));
        }
        let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
        if fields.len() != header.len() {
            continue;
        }
        fields[dv] = num(r.dv);
        if let Some(c) = cens {
            fields[c] = u8::from(r.censored).to_string();
        }
        *line = fields.join(",");
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// Run `cartkin simulate --data`.
pub fn run(a: &SimulateArgs) -> Result<(), CliError> {
    let Some(data) = &a.data else {
        return Err(input("--data: no dataset given"));
    };
    let model = match (&a.model, &a.fit) {
        (Some(name), _) => Model::load(name).map_err(input)?,
        (None, Some(dir)) => fitted_model(dir)?,
        (None, None) => return Err(input("--data needs --model (or --fit)")),
    };
    let dataset = a.read.read_for(data, &model)?;
    let overrides = a
        .params
        .iter()
        .map(|s| name_value("--param", s))
        .collect::<Result<Vec<_>, _>>()?;
    let omega = match &a.omega {
        Some(p) => read_omega(p)?,
        None => Omega::Model,
    };
    let population = Population::new(model.name(), model.parameters(), &overrides, &omega, &[])
        .map_err(input)?;
    let replicates = if a.typical { 0 } else { a.n.unwrap_or(1) };
    if !a.typical && replicates == 0 {
        return Err(input("--n 0: expected at least 1 replicate"));
    }
    let seed = a.seed.unwrap_or(1);
    let threads = match a.threads {
        Some(0) | None => rayon::current_num_threads(),
        Some(t) => t,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| input(format!("--threads {threads}: {e}")))?;
    let out = a.out.prepare("simulate")?;
    let start = Instant::now();
    let rows = pool
        .install(|| {
            simulate_records(
                &model,
                &dataset,
                &population,
                replicates,
                seed,
                a.with_error,
            )
        })
        .map_err(|e| match e {
            RecordsError::Predict { .. } => CliError::Numerical(e.to_string()),
            other => input(other),
        })?;
    let elapsed = start.elapsed().as_secs_f64();
    out.write_with("records.csv", |w| {
        writeln!(w, "REP,ID,TIME,DVID,IPRED,DV,CENS")?;
        for r in &rows {
            writeln!(
                w,
                "{},{},{},{},{},{},{}",
                r.replicate,
                r.id,
                num(r.time),
                r.analyte,
                num(r.ipred),
                num(r.dv),
                u8::from(r.censored)
            )?;
        }
        Ok(())
    })?;
    if a.as_dataset {
        if replicates > 1 {
            return Err(input(
                "--as-dataset with --data writes one simulated copy of the data: expected --n 1 or --typical",
            ));
        }
        let text = rewrite_dv(data, &rows)?;
        out.write("dataset.csv", text.as_bytes())?;
    }
    let data_sha =
        sha256_file(data).map_err(|e| input(format!("cannot read {}: {e}", data.display())))?;
    let run = json!({
        "command": "simulate",
        "mode": "data",
        "inputs": { "data": {
            "path": data.display().to_string(),
            "sha256": data_sha,
            "time_unit": a.read.unit()?.name(),
            "time_varying": a.read.time_varying,
        } },
        "model": {
            "name": model.name(),
            "origin": model.origin(),
            "sha256": sha256_hex(model.source().as_bytes()),
        },
        "time_unit": model.time_unit().name(),
        "replicates": replicates,
        "typical": a.typical,
        "residual_error": a.with_error,
        "seed": seed,
        "threads": threads,
        "elapsed_seconds": elapsed,
        "version": env!("CARGO_PKG_VERSION"),
    });
    super::write_run_json(&out, &run)?;
    println!(
        "simulated {} record{} ({} subject{}, {} replicate{}; times in {}) -> {}: records.csv, run.json",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        dataset.subjects.len(),
        if dataset.subjects.len() == 1 { "" } else { "s" },
        replicates.max(1),
        if replicates > 1 { "s" } else { "" },
        model.time_unit(),
        out.path().display()
    );
    Ok(())
}
