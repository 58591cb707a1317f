//! The one CSV table writer of cartkin's result files, and its conventions.
//!
//! - Fields are separated by `,`, records end with `\n`; a field is quoted only when it
//!   holds a comma, a quote or a line break (RFC 4180, through the `csv` crate).
//! - Numbers are written in the shortest form that reads back to the same `f64`
//!   ([`number`]): plain decimals for 1e-5 ≤ |x| < 1e16 (and 0), exponent form
//!   (`1.5e-7`, `2e20`) outside, so that no value is written with hundreds of digits.
//! - **A missing value is an empty field** ([`MISSING`]), in every table: R's
//!   `read.csv` and pandas' `read_csv` read an empty numeric field as `NA`/`NaN`, and
//!   cartkin's own data reader reads it as missing
//!   ([`crate::data::fields::is_missing`]). Non-finite results (e.g. a geometric mean
//!   of values that include 0) are written as missing too ([`finite`]).

use std::io::{self, Write};

/// The text of a missing value: an empty field.
pub const MISSING: &str = "";

/// A number in the shortest form that reads back to the same `f64` (see the module
/// header).
pub fn number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-5..1e16).contains(&a) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// An optional number: [`number`], or [`MISSING`] when absent.
pub fn optional(x: Option<f64>) -> String {
    x.map(number).unwrap_or_else(|| MISSING.to_string())
}

/// An optional number that is missing also when it is not finite.
pub fn finite(x: Option<f64>) -> String {
    optional(x.filter(|v| v.is_finite()))
}

/// A CSV table: a header, then records of the same length.
pub struct TableWriter<W: Write> {
    out: csv::Writer<W>,
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> TableWriter<W> {
    /// A table writing into `w`, starting with `header` when given (a table continued
    /// from another part, e.g. a shard or a chunk, omits it).
    pub fn new<I, S>(w: W, header: Option<I>) -> io::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut t = TableWriter {
            out: csv::WriterBuilder::new().flexible(false).from_writer(w),
        };
        if let Some(h) = header {
            t.out.write_record(h).map_err(csv_io)?;
        }
        Ok(t)
    }

    /// Write one record.
    pub fn record<I, S>(&mut self, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.out.write_record(fields).map_err(csv_io)
    }

    /// Flush and give back the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_and_missing_is_empty() {
        for x in [
            0.0, 1.0, 0.1, 1e-5, 9.99e-6, 123456.789, 1e16, 2.5e300, -3e-9,
        ] {
            assert_eq!(number(x).parse::<f64>().unwrap(), x, "{}", number(x));
        }
        assert_eq!(number(1.5e-7), "1.5e-7");
        assert_eq!(number(50e6), "50000000");
        assert_eq!(number(2e20), "2e20");
        assert_eq!(optional(None), "");
        assert_eq!(finite(Some(f64::NAN)), "");
        assert_eq!(finite(Some(2.0)), "2");
    }

    #[test]
    fn header_records_and_quoting() {
        let mut t = TableWriter::new(Vec::new(), Some(["a", "b"])).unwrap();
        t.record(["1", "x,y"]).unwrap();
        t.record([number(0.5), optional(None)]).unwrap();
        let bytes = t.finish().unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "a,b\n1,\"x,y\"\n0.5,\n");
        // a record of another length is an error, not a ragged table
        let mut t = TableWriter::new(Vec::new(), Some(["a", "b"])).unwrap();
        assert!(t.record(["1"]).is_err());
    }
}
