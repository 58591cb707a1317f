//! A readable summary of a dataset, as `cartkin check` prints it: subjects, records per
//! analyte with the BLQ fraction (censored / all records of the analyte), time span,
//! dose levels (total amount infused per subject) with subjects per level, covariates
//! with their range or levels, records set aside, and every warning.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::issue::Issue;
use super::records::SkipReason;
use super::types::{Analyte, CovariateValue};
use super::Loaded;
use super::TimeUnit;

/// Records of one analyte.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyteSummary {
    /// The analyte.
    pub analyte: Analyte,
    /// Its unit, for a standard analyte.
    pub unit: Option<&'static str>,
    /// Number of records (censored included).
    pub records: usize,
    /// Number of subjects with at least one record.
    pub subjects: usize,
    /// Number of censored (BLQ) records.
    pub censored: usize,
    /// Smallest and largest quantified value (`None` when all are censored).
    pub range: Option<(f64, f64)>,
}

impl AnalyteSummary {
    /// Fraction of records below the limit of quantification.
    pub fn blq_fraction(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.censored as f64 / self.records as f64
        }
    }
}

/// Subjects sharing one dose level.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseLevel {
    /// Total amount infused per subject (0 for subjects without a dose), or the amount
    /// per kg when `per_kg`.
    pub amount: f64,
    /// Levels are `DOSE_PER_KG` values (every subject has one), not total amounts.
    pub per_kg: bool,
    /// Subject identifiers at this level.
    pub subjects: Vec<String>,
}

/// One covariate column.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariateSummary {
    /// A numeric covariate: range over all values, and how many subjects have it
    /// varying over time.
    Numeric {
        /// Column name.
        name: String,
        /// Subjects with a value.
        subjects: usize,
        /// Smallest and largest value (`None` when no subject has a value).
        range: Option<(f64, f64)>,
        /// Subjects in which it changes over time.
        time_varying: usize,
    },
    /// A categorical covariate: levels with their number of subjects.
    Categorical {
        /// Column name.
        name: String,
        /// Level and number of subjects, sorted by level.
        levels: Vec<(String, usize)>,
    },
}

/// The summary of a loaded dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// File read.
    pub source: PathBuf,
    /// Number of subjects.
    pub subjects: usize,
    /// Number of observation records (censored included).
    pub observations: usize,
    /// Number of censored observation records.
    pub censored: usize,
    /// Number of doses.
    pub doses: usize,
    /// Per analyte, sorted by name.
    pub analytes: Vec<AnalyteSummary>,
    /// Earliest and latest time over observations and doses.
    pub time_span: Option<(f64, f64)>,
    /// The unit of the data's times (`--time-unit`; days unless said otherwise).
    pub time_unit: TimeUnit,
    /// Dose levels, ascending.
    pub dose_levels: Vec<DoseLevel>,
    /// Covariates in file order.
    pub covariates: Vec<CovariateSummary>,
    /// Records set aside, by reason, with their lines.
    pub skipped: Vec<(SkipReason, Vec<usize>)>,
    /// Every warning.
    pub warnings: Vec<Issue>,
}

impl Summary {
    /// Summarise a loaded dataset.
    pub fn of(loaded: &Loaded) -> Summary {
        let ds = &loaded.dataset;
        let mut analytes: BTreeMap<Analyte, (AnalyteSummary, Vec<&str>)> = BTreeMap::new();
        let mut t_min = f64::INFINITY;
        let mut t_max = f64::NEG_INFINITY;
        let mut levels: Vec<DoseLevel> = Vec::new();
        let per_kg: Option<Vec<f64>> = ds
            .subjects
            .iter()
            .map(|s| match s.covariates.constant.get("DOSE_PER_KG") {
                Some(CovariateValue::Numeric(x)) => Some(*x),
                _ => None,
            })
            .collect();
        for (k, s) in ds.subjects.iter().enumerate() {
            for o in &s.observations {
                let (a, ids) = analytes.entry(o.analyte.clone()).or_insert_with(|| {
                    (
                        AnalyteSummary {
                            analyte: o.analyte.clone(),
                            unit: o.analyte.unit(),
                            records: 0,
                            subjects: 0,
                            censored: 0,
                            range: None,
                        },
                        Vec::new(),
                    )
                });
                a.records += 1;
                if o.censored {
                    a.censored += 1;
                } else {
                    a.range = Some(match a.range {
                        None => (o.value, o.value),
                        Some((lo, hi)) => (lo.min(o.value), hi.max(o.value)),
                    });
                }
                if ids.last() != Some(&s.id.as_str()) {
                    ids.push(&s.id);
                    a.subjects += 1;
                }
            }
            for t in s
                .observations
                .iter()
                .map(|o| o.time)
                .chain(s.doses.iter().map(|d| d.time))
            {
                t_min = t_min.min(t);
                t_max = t_max.max(t);
            }
            let level = match &per_kg {
                Some(v) => v[k],
                None => s.total_dose(),
            };
            match levels.iter_mut().find(|l| l.amount == level) {
                Some(l) => l.subjects.push(s.id.clone()),
                None => levels.push(DoseLevel {
                    amount: level,
                    per_kg: per_kg.is_some(),
                    subjects: vec![s.id.clone()],
                }),
            }
        }
        levels.sort_by(|a, b| a.amount.total_cmp(&b.amount));
        let covariates = ds
            .covariate_names
            .iter()
            .map(|name| covariate_summary(loaded, name))
            .collect();
        let mut skipped: BTreeMap<SkipReason, Vec<usize>> = BTreeMap::new();
        for r in &loaded.skipped {
            skipped.entry(r.reason).or_default().push(r.line);
        }
        let analytes: Vec<AnalyteSummary> = analytes.into_values().map(|(a, _)| a).collect();
        Summary {
            source: ds.source.clone(),
            subjects: ds.subjects.len(),
            observations: analytes.iter().map(|a| a.records).sum(),
            censored: analytes.iter().map(|a| a.censored).sum(),
            doses: ds.subjects.iter().map(|s| s.doses.len()).sum(),
            analytes,
            time_span: (t_min <= t_max).then_some((t_min, t_max)),
            time_unit: TimeUnit::Days,
            dose_levels: levels,
            covariates,
            skipped: skipped.into_iter().collect(),
            warnings: loaded.warnings.clone(),
        }
    }
}

fn covariate_summary(loaded: &Loaded, name: &str) -> CovariateSummary {
    let mut numbers: Vec<f64> = Vec::new();
    let mut subjects = 0;
    let mut time_varying = 0;
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for s in &loaded.dataset.subjects {
        if let Some(v) = s.covariates.constant.get(name) {
            subjects += 1;
            match v {
                CovariateValue::Numeric(x) => numbers.push(*x),
                CovariateValue::Categorical(l) => *levels.entry(l.clone()).or_default() += 1,
            }
        } else if let Some(steps) = s.covariates.varying.get(name) {
            subjects += 1;
            time_varying += 1;
            for (_, v) in steps {
                if let CovariateValue::Numeric(x) = v {
                    numbers.push(*x);
                }
            }
        }
    }
    if levels.is_empty() {
        let lo = numbers.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        CovariateSummary::Numeric {
            name: name.to_string(),
            subjects,
            range: (lo <= hi).then_some((lo, hi)),
            time_varying,
        }
    } else {
        CovariateSummary::Categorical {
            name: name.to_string(),
            levels: levels.into_iter().collect(),
        }
    }
}

/// `1 dose`, `2 doses`.
fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// At most 12 subject ids, then how many more.
fn listed(ids: &[String]) -> String {
    const MAX: usize = 12;
    if ids.len() <= MAX {
        ids.join(", ")
    } else {
        format!("{}, ... ({} more)", ids[..MAX].join(", "), ids.len() - MAX)
    }
}

/// A number for people: 4 significant digits, exponent notation outside [1e-3, 1e5).
pub(crate) fn human(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{x:.3e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => s,
        }
    } else {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.source.display())?;
        writeln!(f, "  subjects      {}", self.subjects)?;
        let set_aside: usize = self.skipped.iter().map(|(_, l)| l.len()).sum();
        writeln!(
            f,
            "  records       {} ({} censored), {}, {} set aside",
            count(self.observations, "observation"),
            self.censored,
            count(self.doses, "dose"),
            set_aside
        )?;
        match self.time_span {
            Some((lo, hi)) => {
                let unit = self.time_unit.name();
                writeln!(f, "  time span     {} to {} {unit}", human(lo), human(hi))?
            }
            None => writeln!(f, "  time span     (no records)")?,
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<14} {:>8} {:>9} {:>6} {:>7}  {:<22} unit",
            "analyte", "records", "subjects", "BLQ", "BLQ %", "range (quantified)"
        )?;
        for a in &self.analytes {
            let range = match a.range {
                Some((lo, hi)) => format!("{} - {}", human(lo), human(hi)),
                None => "(all censored)".into(),
            };
            writeln!(
                f,
                "  {:<14} {:>8} {:>9} {:>6} {:>6.1}%  {:<22} {}",
                a.analyte.name(),
                a.records,
                a.subjects,
                a.censored,
                100.0 * a.blq_fraction(),
                range,
                a.unit.unwrap_or("(user-defined)")
            )?;
        }
        writeln!(f)?;
        let per_kg = self.dose_levels.first().is_some_and(|l| l.per_kg);
        if per_kg {
            writeln!(f, "  dose levels (DOSE_PER_KG)")?;
        } else {
            writeln!(f, "  dose levels (total amount per subject)")?;
        }
        for l in &self.dose_levels {
            let label = match (l.amount == 0.0, per_kg) {
                (true, _) => "no dose".to_string(),
                (false, true) => format!("{}/kg", human(l.amount)),
                (false, false) => human(l.amount),
            };
            writeln!(
                f,
                "    {:<12} {} subject{}: {}",
                label,
                l.subjects.len(),
                if l.subjects.len() == 1 { "" } else { "s" },
                listed(&l.subjects)
            )?;
        }
        if !self.covariates.is_empty() {
            writeln!(f)?;
            writeln!(f, "  covariates")?;
        }
        for c in &self.covariates {
            match c {
                CovariateSummary::Numeric {
                    name,
                    subjects,
                    range,
                    time_varying,
                } => {
                    let varying = if *time_varying > 0 {
                        format!(", time-varying in {time_varying}")
                    } else {
                        String::new()
                    };
                    let range = match range {
                        Some((lo, hi)) => format!("{} - {}", human(*lo), human(*hi)),
                        None => "(no values)".to_string(),
                    };
                    writeln!(
                        f,
                        "    {:<12} numeric      {} ({}{})",
                        name,
                        range,
                        count(*subjects, "subject"),
                        varying
                    )?;
                }
                CovariateSummary::Categorical { name, levels } => {
                    let text: Vec<String> =
                        levels.iter().map(|(l, n)| format!("{l} ({n})")).collect();
                    writeln!(f, "    {:<12} categorical  {}", name, text.join(", "))?;
                }
            }
        }
        if !self.skipped.is_empty() {
            writeln!(f)?;
            writeln!(f, "  records set aside")?;
            for (reason, lines) in &self.skipped {
                let list: Vec<String> = lines.iter().take(50).map(|l| l.to_string()).collect();
                let more = if lines.len() > 50 {
                    format!(", ... ({} more)", lines.len() - 50)
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "    {} record{}: {reason}",
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" }
                )?;
                writeln!(f, "      lines {}{more}", list.join(", "))?;
            }
        }
        writeln!(f)?;
        if self.warnings.is_empty() {
            writeln!(f, "  no warnings")?;
        } else {
            writeln!(f, "  warnings ({})", self.warnings.len())?;
            for w in &self.warnings {
                writeln!(f, "    {w}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn human_numbers() {
        assert_eq!(human(25e6), "2.5e7");
        assert_eq!(human(1e8), "1e8");
        assert_eq!(human(-7.0), "-7");
        assert_eq!(human(365.0), "365");
        assert_eq!(human(0.25), "0.25");
        assert_eq!(human(12.3456), "12.35");
        assert_eq!(human(0.0), "0");
    }
}
