//! `report.html`: one self-contained page for a result directory of `fit`, `nca`,
//! `simulate`, `vpc` or `trial`.
//!
//! The page holds the run summary from `run.json` (command, data and its SHA-256, model
//! and its hash, method, settings, seed, versions, objective), the parameter table of
//! `parameters.csv` (estimate, SE, RSE %, CI, shrinkage when written), the summary
//! tables of the other commands, every `*.svg` plot of the directory inline, and the
//! warnings (subjects whose fit did not converge, with the reason). Nothing is loaded
//! from the network: the style sheet is inline and there is no script.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// Errors while assembling a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The directory cannot be read or holds no result of cartkin.
    #[error("{dir}: {message}")]
    Directory {
        /// The directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
    /// A file of the directory cannot be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// The cause (with line when known).
        message: String,
    },
}

/// Tables shown when present, with a title and a row limit.
const TABLES: [(&str, &str, usize); 6] = [
    ("parameters.csv", "Parameters", 500),
    ("nca_summary.csv", "NCA summary by dose level", 300),
    ("endpoints_summary.csv", "Endpoints by dose level", 100),
    ("trial.csv", "Trial operating characteristics", 100),
    ("vpc.csv", "Visual predictive check", 300),
    ("bootstrap_summary.csv", "Bootstrap", 200),
];

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1300px;color:#222;padding:0 1em}\
h1{font-size:1.6em;border-bottom:2px solid #0072b2;padding-bottom:.3em}h2{font-size:1.25em;margin-top:1.6em;color:#0072b2}\
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#eef4f9}td.k,th.k{text-align:left}figure{margin:1em 0;border:1px solid #ddd;padding:.5em}\
figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}\
ul.warnings li{color:#8a3b00}pre{background:#f6f6f6;padding:.6em;font-size:.8em;overflow-x:auto}";

/// Escape text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number to 4 significant digits for display; other text as is.
fn cell(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && text.contains(['.', 'e', 'E']) => {
            let a = v.abs();
            if a != 0.0 && !(1e-3..1e6).contains(&a) {
                format!("{v:.3e}")
            } else {
                let digits = if a == 0.0 {
                    0
                } else {
                    (3 - a.log10().floor() as i32).clamp(0, 6) as usize
                };
                format!("{v:.digits$}")
            }
        }
        _ => text.to_string(),
    }
}

/// The HTML of the report of `dir`.
pub fn render(dir: &Path) -> Result<String, ReportError> {
    let dir_err = |message: String| ReportError::Directory {
        dir: dir.display().to_string(),
        message,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| dir_err(e.to_string()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let run = read_run(dir)?;
    let has_table = TABLES.iter().any(|(f, _, _)| names.iter().any(|n| n == f));
    if run.is_none() && !has_table && !names.iter().any(|n| n.ends_with(".csv")) {
        return Err(dir_err(
            "no run.json and no result table: expected the output directory of cartkin fit, nca, simulate, vpc or trial".into(),
        ));
    }
    let command = run
        .as_ref()
        .and_then(|r| r["command"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            if names.iter().any(|n| n == "nca.csv") {
                "nca".into()
            } else {
                "results".into()
            }
        });
    let model = run
        .as_ref()
        .and_then(|r| r["model"]["name"].as_str())
        .map(|m| format!(" — {m}"))
        .unwrap_or_default();

    let mut h = String::new();
    let title = format!("cartkin {command}{model}");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\n<h1 id=\"title\">{t}</h1>\n\
         <p>Directory <code>{d}</code>, report by cartkin {v}.</p>\n",
        t = escape(&title),
        d = escape(&dir.display().to_string()),
        v = env!("CARGO_PKG_VERSION"),
    );

    h.push_str("<h2 id=\"summary\">Run summary</h2>\n");
    match &run {
        Some(r) => summary(&mut h, r),
        None => h.push_str("<p>No run.json in this directory.</p>\n"),
    }

    for (file, heading, limit) in TABLES {
        if names.iter().any(|n| n == file) {
            let id = file.trim_end_matches(".csv").replace('_', "-");
            let _ = writeln!(h, "<h2 id=\"{id}\">{heading}</h2>");
            table(&mut h, &dir.join(file), limit)?;
        }
    }

    let svgs: Vec<&String> = names.iter().filter(|n| n.ends_with(".svg")).collect();
    let _ = writeln!(h, "<h2 id=\"plots\">Plots ({})</h2>", svgs.len());
    if svgs.is_empty() {
        h.push_str("<p>No plots in this directory (written by fit, nca, simulate and vpc unless --no-plots).</p>\n");
    }
    for name in svgs {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let start = text.find("<svg").ok_or_else(|| ReportError::File {
            path: path.display().to_string(),
            message: "no <svg> element".into(),
        })?;
        let _ = writeln!(
            h,
            "<figure class=\"plot\">{}<figcaption>{}</figcaption></figure>",
            &text[start..],
            escape(name)
        );
    }

    let warnings = run.as_ref().map(warnings).unwrap_or_default();
    let _ = writeln!(h, "<h2 id=\"warnings\">Warnings ({})</h2>", warnings.len());
    if warnings.is_empty() {
        h.push_str("<p>None.</p>\n");
    } else {
        h.push_str("<ul class=\"warnings\">\n");
        for w in &warnings {
            let _ = writeln!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

fn read_run(dir: &Path) -> Result<Option<Value>, ReportError> {
    let path = dir.join("run.json");
    if !path.exists() {
        return Ok(None);
    }
    let err = |message: String| ReportError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| err(format!("not JSON: {e}")))
}

fn summary(h: &mut String, r: &Value) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => cell(&n.to_string()),
        other => other.to_string(),
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &Value| {
        if !v.is_null() {
            rows.push((k.to_string(), text(v)));
        }
    };
    add("command", &r["command"]);
    add("method", &r["method"]);
    add("model", &r["model"]["name"]);
    add("model origin", &r["model"]["origin"]);
    add("model SHA-256", &r["model"]["sha256"]);
    if let Some(inputs) = r["inputs"].as_object() {
        for (k, v) in inputs {
            add(&format!("input {k}"), &v["path"]);
            add(&format!("input {k} SHA-256"), &v["sha256"]);
        }
    }
    add("scenario", &r["scenario"]);
    add("seed", &r["seed"]);
    for k in [
        "n_subjects",
        "n_converged",
        "n_hessian_not_pd",
        "n_not_converged",
        "n_failed",
        "n_observations",
        "neg2ll",
        "aic",
        "bic",
        "threads",
        "elapsed_seconds",
    ] {
        add(k, &r[k]);
    }
    if let Some(v) = r["versions"].as_object() {
        let s: Vec<String> = v.iter().map(|(k, v)| format!("{k} {}", text(v))).collect();
        rows.push(("versions".into(), s.join(", ")));
    }
    h.push_str("<table class=\"summary\">\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th class=\"k\">{}</th><td class=\"k\">{}</td></tr>",
            escape(&k),
            escape(&v)
        );
    }
    h.push_str("</table>\n");
    if !r["settings"].is_null() {
        let pretty = serde_json::to_string_pretty(&r["settings"]).unwrap_or_default();
        let _ = writeln!(
            h,
            "<details><summary>Settings</summary><pre>{}</pre></details>",
            escape(&pretty)
        );
    }
}

fn table(h: &mut String, path: &Path, limit: usize) -> Result<(), ReportError> {
    let err = |message: String| ReportError::File {
        path: path.display().to_string(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let _ = write!(h, "<table class=\"data\"><tr>");
    for (i, c) in header.iter().enumerate() {
        let class = if i == 0 { " class=\"k\"" } else { "" };
        let _ = write!(h, "<th{class}>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    let mut shown = 0;
    let mut total = 0;
    for rec in r.records() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        total += 1;
        if shown >= limit {
            continue;
        }
        shown += 1;
        h.push_str("<tr>");
        for (i, f) in rec.iter().enumerate() {
            let class = if i == 0 { " class=\"k\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", escape(&cell(f)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if total > shown {
        let _ = writeln!(
            h,
            "<p>{shown} of {total} rows shown; all in <code>{}</code>.</p>",
            escape(&path.file_name().unwrap_or_default().to_string_lossy())
        );
    }
    Ok(())
}

fn warnings(r: &Value) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(list) = r["warnings"].as_array() {
        w.extend(
            list.iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string())),
        );
    }
    if let Some(subjects) = r["subjects"].as_array() {
        for s in subjects {
            let status = s["status"].as_str().unwrap_or("");
            if !status.is_empty() && status != "converged" {
                let id = match &s["id"] {
                    Value::String(x) => x.clone(),
                    other => other.to_string(),
                };
                let reason = s["reason"].as_str().unwrap_or("");
                w.push(format!(
                    "subject {id}: {status}{}{reason}",
                    if reason.is_empty() { "" } else { ": " }
                ));
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_rounds_for_display() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(cell("9382.59752016956"), "9383");
        assert_eq!(cell("5.722372692616026"), "5.722");
        assert_eq!(cell("0.0005165015975861794"), "5.165e-4");
        assert_eq!(cell("25000000"), "25000000");
        assert_eq!(cell("NA"), "NA");
    }
}
