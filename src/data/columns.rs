//! Column names of the long CSV format (docs/data-format.md) and their resolution.
//!
//! Names are case-insensitive. Each role accepts its NONMEM/Monolix name and friendly
//! aliases:
//!
//! | role | accepted names |
//! |---|---|
//! | ID | `ID`, `SUBJECT`, `USUBJID` |
//! | TIME | `TIME`, `DAY`, `TIME_DAYS` |
//! | DV | `DV`, `VALUE`, `CONC` |
//! | DVID | `DVID`, `ANALYTE`, `YTYPE`, `CMT_NAME` |
//! | CENS | `CENS`, `BLQ`, `BQL` |
//! | LLOQ | `LLOQ`, `LIMIT`, `LOQ` |
//! | EVID | `EVID` |
//! | AMT | `AMT`, `DOSE_CELLS` |
//! | MDV | `MDV` |
//! | CMT | `CMT` |
//! | RATE | `RATE` |
//! | DUR | `DUR` |
//! | ADDL, II, SS | NONMEM repeated / steady-state dosing: accepted only when 0 or empty |
//!
//! Every other column is a covariate, named by its upper-case header.

use std::path::Path;

use super::issue::Issue;

/// What a column means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Subject identifier.
    Id,
    /// Days since infusion.
    Time,
    /// Observed value.
    Dv,
    /// Analyte name or code.
    Dvid,
    /// Censoring flag.
    Cens,
    /// Lower limit of quantification.
    Lloq,
    /// Event type.
    Evid,
    /// Dose amount.
    Amt,
    /// Missing dependent variable flag.
    Mdv,
    /// Dose target compartment.
    Cmt,
    /// Infusion rate.
    Rate,
    /// Infusion duration.
    Dur,
    /// NONMEM additional doses (unsupported unless 0).
    Addl,
    /// NONMEM interdose interval (unsupported unless 0).
    Ii,
    /// NONMEM steady-state flag (unsupported unless 0).
    Ss,
}

/// Canonical name and accepted lower-case names of each role.
pub const ROLE_NAMES: &[(Role, &str, &[&str])] = &[
    (Role::Id, "ID", &["id", "subject", "usubjid"]),
    (Role::Time, "TIME", &["time", "day", "time_days"]),
    (Role::Dv, "DV", &["dv", "value", "conc"]),
    (
        Role::Dvid,
        "DVID",
        &["dvid", "analyte", "ytype", "cmt_name"],
    ),
    (Role::Cens, "CENS", &["cens", "blq", "bql"]),
    (Role::Lloq, "LLOQ", &["lloq", "limit", "loq"]),
    (Role::Evid, "EVID", &["evid"]),
    (Role::Amt, "AMT", &["amt", "dose_cells"]),
    (Role::Mdv, "MDV", &["mdv"]),
    (Role::Cmt, "CMT", &["cmt"]),
    (Role::Rate, "RATE", &["rate"]),
    (Role::Dur, "DUR", &["dur"]),
    (Role::Addl, "ADDL", &["addl"]),
    (Role::Ii, "II", &["ii"]),
    (Role::Ss, "SS", &["ss"]),
];

/// Roles a file must have.
pub const REQUIRED: &[Role] = &[Role::Id, Role::Time, Role::Dv, Role::Dvid];

impl Role {
    /// The canonical (NONMEM) name of the role.
    pub fn canonical(self) -> &'static str {
        ROLE_NAMES
            .iter()
            .find(|(r, _, _)| *r == self)
            .map(|(_, c, _)| *c)
            .unwrap_or("?")
    }

    /// The accepted names, for messages: `DV (or value, conc)`.
    pub fn described(self) -> String {
        let aliases: Vec<&str> = ROLE_NAMES
            .iter()
            .find(|(r, _, _)| *r == self)
            .map(|(_, _, a)| a.iter().skip(1).copied().collect())
            .unwrap_or_default();
        if aliases.is_empty() {
            self.canonical().to_string()
        } else {
            format!("{} (or {})", self.canonical(), aliases.join(", "))
        }
    }

    /// The role a header name stands for, if any (case-insensitive).
    pub fn of_name(name: &str) -> Option<Role> {
        let lower = name.to_ascii_lowercase();
        ROLE_NAMES
            .iter()
            .find(|(_, _, names)| names.contains(&lower.as_str()))
            .map(|(r, _, _)| *r)
    }
}

/// A header resolved into roles and covariates.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// Header names as written (trimmed), by field index.
    pub headers: Vec<String>,
    /// Field index of each role present.
    roles: Vec<(Role, usize)>,
    /// Covariates: upper-case name and field index, in file order.
    pub covariates: Vec<(String, usize)>,
}

impl ColumnMap {
    /// Resolve a header row. Reports missing required columns, duplicated names and two
    /// columns claiming the same role, each as an error on line 1.
    pub fn resolve(file: &Path, line: usize, header: &[String]) -> Result<ColumnMap, Vec<Issue>> {
        let mut issues = Vec::new();
        let headers: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let mut roles: Vec<(Role, usize)> = Vec::new();
        let mut covariates: Vec<(String, usize)> = Vec::new();
        for (i, name) in headers.iter().enumerate() {
            if name.is_empty() {
                issues.push(Issue::error(
                    file,
                    line,
                    &format!("#{}", i + 1),
                    Some(""),
                    "a column name (the header has an empty name; remove trailing commas)",
                ));
                continue;
            }
            if let Some(j) = headers[..i]
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
            {
                issues.push(Issue::error(
                    file,
                    line,
                    name,
                    Some(name),
                    format!(
                        "a unique column name (column {} is also named '{}'; names are case-insensitive)",
                        j + 1,
                        headers[j]
                    ),
                ));
                continue;
            }
            match Role::of_name(name) {
                Some(role) => {
                    if let Some(&(_, j)) = roles.iter().find(|(r, _)| *r == role) {
                        issues.push(Issue::error(
                            file,
                            line,
                            name,
                            Some(name),
                            format!(
                                "one column for {} (column '{}' already gives it)",
                                role.described(),
                                headers[j]
                            ),
                        ));
                    } else {
                        roles.push((role, i));
                    }
                }
                None => covariates.push((name.to_ascii_uppercase(), i)),
            }
        }
        for role in REQUIRED {
            if !roles.iter().any(|(r, _)| r == role) {
                let hint = if headers.len() == 1
                    && (headers[0].contains(';') || headers[0].contains('\t'))
                {
                    " (the header looks separated by ';' or tabs: expected commas)"
                } else {
                    ""
                };
                issues.push(Issue::error(
                    file,
                    line,
                    role.canonical(),
                    None,
                    format!(
                        "a required column {} (missing from the header){hint}",
                        role.described()
                    ),
                ));
            }
        }
        if issues.is_empty() {
            Ok(ColumnMap {
                headers,
                roles,
                covariates,
            })
        } else {
            Err(issues)
        }
    }

    /// Field index of a role, if the column is present.
    pub fn index(&self, role: Role) -> Option<usize> {
        self.roles.iter().find(|(r, _)| *r == role).map(|(_, i)| *i)
    }

    /// The header name of a role as written in the file (the canonical name if absent).
    pub fn name(&self, role: Role) -> &str {
        match self.index(role) {
            Some(i) => &self.headers[i],
            None => role.canonical(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn aliases_resolve_case_insensitively() {
        let m = ColumnMap::resolve(
            Path::new("f.csv"),
            1,
            &strings(&[
                "USUBJID", "Day", "conc", "Analyte", "bql", "LOQ", "wt", "Sex",
            ]),
        )
        .unwrap();
        assert_eq!(m.index(Role::Id), Some(0));
        assert_eq!(m.index(Role::Time), Some(1));
        assert_eq!(m.index(Role::Dv), Some(2));
        assert_eq!(m.index(Role::Dvid), Some(3));
        assert_eq!(m.index(Role::Cens), Some(4));
        assert_eq!(m.index(Role::Lloq), Some(5));
        assert_eq!(m.name(Role::Time), "Day");
        assert_eq!(
            m.covariates,
            vec![("WT".to_string(), 6), ("SEX".to_string(), 7)]
        );
    }

    #[test]
    fn missing_and_duplicated_columns_are_each_reported() {
        let issues = ColumnMap::resolve(
            Path::new("f.csv"),
            1,
            &strings(&["ID", "id", "value", "DV", "WT"]),
        )
        .unwrap_err();
        // duplicate "id", DV twice (value + DV), TIME missing, DVID missing
        assert_eq!(issues.len(), 4, "{issues:?}");
        assert!(issues.iter().all(|i| i.line == 1));
        assert!(issues.iter().any(|i| i.column == "TIME"));
        assert!(issues.iter().any(|i| i.column == "DVID"));
    }
}
