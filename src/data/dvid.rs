//! Numeric analyte codes (`DVID` = 1, 2, ...) and the options of the reader.
//!
//! NONMEM and Monolix datasets often code the analyte as a number; cartkin needs the
//! name. A [`DvidMap`] says which: the documented default (code k = k-th standard
//! analyte) or an explicit `1=transgene,2=b_cells` mapping.

use std::collections::BTreeMap;

use super::fields::parse_number;
use super::types::{Analyte, STANDARD_ANALYTES};

/// How numeric `DVID` codes translate to analyte names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DvidMap {
    /// The documented default: code k is the k-th standard analyte, in the order of
    /// [`STANDARD_ANALYTES`] (1 = transgene, 2 = cart_cells, 3 = b_cells, 4 = naive_b,
    /// 5 = memory_b, 6 = plasmablast, 7 = plasma_cell, 8 = igg, 9 = igm, 10 = iga,
    /// 11 = anti_dsdna). Its use is reported as a warning.
    Default,
    /// An explicit mapping from code (as an integer) to analyte.
    Explicit(BTreeMap<i64, Analyte>),
}

impl DvidMap {
    /// Parse `1=transgene,2=b_cells`.
    pub fn parse(text: &str) -> Result<DvidMap, String> {
        let mut map = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (code, name) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}': expected CODE=ANALYTE, e.g. 1=transgene"))?;
            let code: i64 = code
                .trim()
                .parse()
                .map_err(|_| format!("'{part}': the code '{}' is not an integer", code.trim()))?;
            let name = name.trim();
            if name.is_empty() || parse_number(name).is_ok() {
                return Err(format!("'{part}': expected an analyte name after '='"));
            }
            if map.insert(code, Analyte::new(name)).is_some() {
                return Err(format!("code {code} is mapped twice"));
            }
        }
        if map.is_empty() {
            return Err("an empty mapping: expected e.g. 1=transgene,2=b_cells".into());
        }
        Ok(DvidMap::Explicit(map))
    }

    /// The analyte of a code.
    pub fn analyte(&self, code: i64) -> Option<Analyte> {
        match self {
            DvidMap::Default => usize::try_from(code)
                .ok()
                .and_then(|k| k.checked_sub(1))
                .and_then(|k| STANDARD_ANALYTES.get(k))
                .map(|(n, _)| Analyte::new(n)),
            DvidMap::Explicit(m) => m.get(&code).cloned(),
        }
    }

    /// The mapping as text, `1=transgene, 2=b_cells`.
    pub fn describe(&self) -> String {
        let pairs: Vec<String> = match self {
            DvidMap::Default => STANDARD_ANALYTES
                .iter()
                .enumerate()
                .map(|(k, (n, _))| format!("{}={n}", k + 1))
                .collect(),
            DvidMap::Explicit(m) => m.iter().map(|(k, a)| format!("{k}={a}")).collect(),
        };
        pairs.join(", ")
    }
}

/// How a time-varying covariate's records are read between record times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CovariateRule {
    /// Last observation carried forward: a record's value holds from its time until the
    /// next record's time.
    #[default]
    Locf,
    /// Next observation carried backward (NONMEM's default for covariates on records):
    /// a record's value holds from the previous record's time up to its own.
    Nocb,
}

impl CovariateRule {
    /// Parse `locf` or `nocb` (case-insensitive).
    pub fn parse(text: &str) -> Result<CovariateRule, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "locf" => Ok(CovariateRule::Locf),
            "nocb" => Ok(CovariateRule::Nocb),
            other => Err(format!(
                "'{other}': expected locf (last observation carried forward) or nocb (next observation carried backward)"
            )),
        }
    }
}

/// Options of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Translation of numeric `DVID` codes (and of `CMT` codes on observation records of
    /// a file without `DVID`).
    pub dvid_map: DvidMap,
    /// How time-varying covariates hold between records.
    pub covariates: CovariateRule,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            dvid_map: DvidMap::Default,
            covariates: CovariateRule::Locf,
        }
    }
}
