//! A result table read back by column name: the plots read what the commands wrote,
//! with the project's missing-value convention (`NA` or an empty field).

use std::path::{Path, PathBuf};

use super::PlotError;

/// A CSV table held as text, looked up by column name.
#[derive(Debug, Clone)]
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Read `path` (a header line, then records).
    pub fn read(path: &Path) -> Result<Self, PlotError> {
        let err = |message: String| PlotError::Read {
            path: path.into(),
            message,
        };
        let mut r = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let header = r
            .headers()
            .map_err(|e| err(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| err(e.to_string()))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Table {
            path: path.into(),
            header,
            rows,
        })
    }

    /// Read `path` if it exists.
    pub fn read_optional(path: &Path) -> Result<Option<Self>, PlotError> {
        if path.exists() {
            Self::read(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Index of a column, if present.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Index of a column that must be present.
    pub fn require(&self, name: &str) -> Result<usize, PlotError> {
        self.column(name).ok_or_else(|| PlotError::Read {
            path: self.path.clone(),
            message: format!("no column `{name}` (header: {})", self.header.join(",")),
        })
    }

    /// The text of record `row`, column `col`.
    pub fn text(&self, row: usize, col: usize) -> &str {
        self.rows[row].get(col).map(String::as_str).unwrap_or("")
    }

    /// The number in record `row`, column `col`: `None` when missing (`NA`, empty) or
    /// not a finite number.
    pub fn num(&self, row: usize, col: usize) -> Option<f64> {
        self.text(row, col)
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }

    /// True when column `name` exists and holds at least one finite number.
    pub fn has_values(&self, name: &str) -> bool {
        self.column(name)
            .is_some_and(|c| (0..self.len()).any(|r| self.num(r, c).is_some()))
    }

    /// The distinct texts of a column in first-seen order.
    pub fn distinct(&self, col: usize) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for r in 0..self.len() {
            let t = self.text(r, col);
            if !seen.iter().any(|s| s == t) {
                seen.push(t.to_string());
            }
        }
        seen
    }
}
