//! The `[design]` and `[toxicity]` sections of a scenario file, checked.
//!
//! ```toml
//! [design]
//! rule = "boin"          # "boin" or "3+3"
//! target = 0.30          # BOIN only: target DLT probability, in [0.05, 0.6]
//! cohort_size = 3        # BOIN only (3+3 treats cohorts of 3); default 3
//! max_n = 12             # BOIN only: maximum number of patients
//! start = 1              # starting dose level, 1-based; default 1
//! dlt_window_days = 28   # DLT window (days) of the exposure link
//! # BOIN only, optional: phi1 (0.6·target), phi2 (1.4·target),
//! # elimination_cutoff (0.95), n_stop (none)
//!
//! [toxicity]
//! p_dlt = [0.05, 0.15, 0.30]   # one probability per dose level, or:
//! # link = "logistic"; metric = "cmax" | "auc0_28"; analyte = "transgene";
//! # intercept = -13.3; slope = 1.0
//! ```
//!
//! Unknown keys and wrong types are errors with the file, line and column (from the TOML
//! parser); values out of range name the file, the section and key, the value and what
//! is expected. The BOIN checks follow the BOIN R package: φ1 ≤ 0.9φ, φ2 ≥ 1.1φ.

use std::path::Path;

use serde::Deserialize;

use super::design::Boin;
use super::toxicity::{Link, Metric, Toxicity};
use super::TrialError;

/// The escalation rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// 3+3 with de-escalation.
    ThreePlusThree,
    /// BOIN.
    Boin(Boin),
}

/// A checked trial design: rule, start level, DLT window and toxicity.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialSettings {
    /// The rule.
    pub rule: Rule,
    /// Starting level, 0-based.
    pub start: usize,
    /// DLT window in days.
    pub dlt_window_days: u32,
    /// True DLT probabilities.
    pub toxicity: Toxicity,
}

#[derive(Deserialize)]
struct Sections {
    design: Option<DesignSection>,
    toxicity: Option<ToxicitySection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignSection {
    rule: String,
    target: Option<f64>,
    cohort_size: Option<usize>,
    max_n: Option<usize>,
    start: Option<usize>,
    dlt_window_days: f64,
    phi1: Option<f64>,
    phi2: Option<f64>,
    elimination_cutoff: Option<f64>,
    n_stop: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToxicitySection {
    p_dlt: Option<Vec<f64>>,
    link: Option<String>,
    metric: Option<String>,
    analyte: Option<String>,
    intercept: Option<f64>,
    slope: Option<f64>,
}

impl TrialSettings {
    /// Read the sections from the text of scenario `file` with `levels` dose levels.
    pub fn parse(file: &Path, text: &str, levels: usize) -> Result<Self, TrialError> {
        let err = |message: String| TrialError::Scenario {
            file: file.to_path_buf(),
            message,
        };
        let sections: Sections =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let design = sections
            .design
            .ok_or_else(|| err("no [design] section: expected rule, dlt_window_days, ... (see data/trials/ct1195e_sle.toml)".into()))?;
        let toxicity = sections.toxicity.ok_or_else(|| {
            err("no [toxicity] section: expected p_dlt = [...] or a logistic link".into())
        })?;
        let bad = |key: &str, value: String, expected: &str| {
            err(format!("{key} = {value}: expected {expected}"))
        };

        let start = design.start.unwrap_or(1);
        if start == 0 || start > levels {
            return Err(bad(
                "[design] start",
                start.to_string(),
                &format!("a dose level from 1 to {levels}"),
            ));
        }
        let w = design.dlt_window_days;
        if !(w.is_finite() && w >= 1.0 && w.fract() == 0.0 && w <= 365.0) {
            return Err(bad(
                "[design] dlt_window_days",
                w.to_string(),
                "a whole number of days from 1 to 365",
            ));
        }
        let boin_only = [
            ("target", design.target.is_some()),
            ("cohort_size", design.cohort_size.is_some()),
            ("max_n", design.max_n.is_some()),
            ("phi1", design.phi1.is_some()),
            ("phi2", design.phi2.is_some()),
            ("elimination_cutoff", design.elimination_cutoff.is_some()),
            ("n_stop", design.n_stop.is_some()),
        ];
        let rule = match design.rule.trim().to_ascii_lowercase().as_str() {
            "3+3" => {
                if let Some((key, _)) = boin_only.iter().find(|(_, given)| *given) {
                    return Err(err(format!(
                        "[design] {key}: not a 3+3 setting (3+3 treats cohorts of 3, at most 6 per level); expected only rule, start, dlt_window_days"
                    )));
                }
                Rule::ThreePlusThree
            }
            "boin" => Rule::Boin(boin(&design, &bad)?),
            other => {
                return Err(bad(
                    "[design] rule",
                    format!("\"{other}\""),
                    "\"boin\" or \"3+3\"",
                ))
            }
        };
        let toxicity = toxicity_of(&toxicity, levels, w, &bad)?;
        Ok(TrialSettings {
            rule,
            start: start - 1,
            dlt_window_days: w as u32,
            toxicity,
        })
    }
}

fn boin(
    d: &DesignSection,
    bad: &dyn Fn(&str, String, &str) -> TrialError,
) -> Result<Boin, TrialError> {
    let target = d.target.ok_or_else(|| {
        bad(
            "[design] target",
            "(missing)".into(),
            "the target DLT probability of BOIN",
        )
    })?;
    if !(0.05..=0.6).contains(&target) {
        return Err(bad(
            "[design] target",
            target.to_string(),
            "a probability from 0.05 to 0.6",
        ));
    }
    let phi1 = d.phi1.unwrap_or(0.6 * target);
    if !(phi1 > 0.0 && phi1 <= 0.9 * target) {
        return Err(bad(
            "[design] phi1",
            phi1.to_string(),
            &format!("a probability > 0 and <= 0.9 x target = {}", 0.9 * target),
        ));
    }
    let phi2 = d.phi2.unwrap_or(1.4 * target);
    if !(phi2 >= 1.1 * target && phi2 < 1.0) {
        return Err(bad(
            "[design] phi2",
            phi2.to_string(),
            &format!("a probability < 1 and >= 1.1 x target = {}", 1.1 * target),
        ));
    }
    let cohort_size = d.cohort_size.unwrap_or(3);
    if cohort_size == 0 {
        return Err(bad("[design] cohort_size", "0".into(), "at least 1"));
    }
    let max_n = d.max_n.ok_or_else(|| {
        bad(
            "[design] max_n",
            "(missing)".into(),
            "the maximum number of patients of BOIN",
        )
    })?;
    if max_n < cohort_size {
        return Err(bad(
            "[design] max_n",
            max_n.to_string(),
            &format!("at least the cohort size {cohort_size}"),
        ));
    }
    let cutoff = d.elimination_cutoff.unwrap_or(0.95);
    if !(cutoff > 0.5 && cutoff < 1.0) {
        return Err(bad(
            "[design] elimination_cutoff",
            cutoff.to_string(),
            "a posterior probability between 0.5 and 1",
        ));
    }
    if let Some(0) = d.n_stop {
        return Err(bad("[design] n_stop", "0".into(), "at least 1 patient"));
    }
    Ok(Boin::new(
        target,
        phi1,
        phi2,
        cohort_size,
        max_n,
        d.n_stop,
        cutoff,
    ))
}

fn toxicity_of(
    t: &ToxicitySection,
    levels: usize,
    window: f64,
    bad: &dyn Fn(&str, String, &str) -> TrialError,
) -> Result<Toxicity, TrialError> {
    let link_keys = [
        ("link", t.link.is_some()),
        ("metric", t.metric.is_some()),
        ("analyte", t.analyte.is_some()),
        ("intercept", t.intercept.is_some()),
        ("slope", t.slope.is_some()),
    ];
    if let Some(p) = &t.p_dlt {
        if let Some((key, _)) = link_keys.iter().find(|(_, given)| *given) {
            return Err(bad(
                &format!("[toxicity] {key}"),
                "(given with p_dlt)".into(),
                "either p_dlt or a logistic link, not both",
            ));
        }
        if p.len() != levels {
            return Err(bad(
                "[toxicity] p_dlt",
                format!("{p:?}"),
                &format!("one probability per dose level ({levels})"),
            ));
        }
        if let Some(x) = p.iter().find(|x| !(0.0..=1.0).contains(*x)) {
            return Err(bad(
                "[toxicity] p_dlt",
                x.to_string(),
                "probabilities from 0 to 1",
            ));
        }
        return Ok(Toxicity::Fixed(p.clone()));
    }
    let missing = |key: &str| {
        bad(
            &format!("[toxicity] {key}"),
            "(missing)".into(),
            "p_dlt = [...], or link = \"logistic\" with metric, analyte, intercept and slope",
        )
    };
    let link = t.link.as_deref().ok_or_else(|| missing("link"))?;
    if link != "logistic" {
        return Err(bad(
            "[toxicity] link",
            format!("\"{link}\""),
            "\"logistic\"",
        ));
    }
    let metric = match t.metric.as_deref().ok_or_else(|| missing("metric"))? {
        "cmax" => Metric::Cmax,
        "auc0_28" if window >= 28.0 => Metric::Auc0To28,
        "auc0_28" => {
            return Err(bad(
                "[toxicity] metric",
                "\"auc0_28\"".into(),
                &format!("a metric within the DLT window of {window} days (auc0_28 needs 28)"),
            ))
        }
        other => {
            return Err(bad(
                "[toxicity] metric",
                format!("\"{other}\""),
                "\"cmax\" or \"auc0_28\"",
            ))
        }
    };
    let analyte = t.analyte.clone().ok_or_else(|| missing("analyte"))?;
    let intercept = t.intercept.ok_or_else(|| missing("intercept"))?;
    let slope = t.slope.ok_or_else(|| missing("slope"))?;
    for (key, v) in [("intercept", intercept), ("slope", slope)] {
        if !v.is_finite() {
            return Err(bad(
                &format!("[toxicity] {key}"),
                v.to_string(),
                "a finite number",
            ));
        }
    }
    Ok(Toxicity::Logistic(Link {
        metric,
        analyte,
        intercept,
        slope,
    }))
}
