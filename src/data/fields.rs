//! Reading single fields: missing values, numbers, flags and the DV text forms that mean
//! "below the limit of quantification".
//!
//! - Missing: an empty field, `.` (NONMEM) or `NA` (R), after trimming spaces.
//! - Numbers: decimal or exponent notation (`1.5`, `2e7`); `NaN` and `inf` are read
//!   but refused as non-finite.
//! - DV: a number; or `BLQ`, `BQL`, `<LLOQ`, `<LOQ` (censored, limit from LLOQ); or
//!   `<x` with a number x (censored, limit x). Case-insensitive.

/// Whether a field holds no value.
pub fn is_missing(field: &str) -> bool {
    let t = field.trim();
    t.is_empty() || t == "." || t.eq_ignore_ascii_case("na")
}

/// Why a field is not a usable number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not a number at all.
    NotNumeric,
    /// NaN or infinite.
    NonFinite,
}

/// Parse a finite number.
pub fn parse_number(field: &str) -> Result<f64, NumberProblem> {
    let t = field.trim();
    // Rust accepts "infinity", "inf", "nan" (any case) and a leading '+': fine, finite
    // check below; it does not accept hex or thousands separators, as wanted.
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(NumberProblem::NonFinite),
        Err(_) => Err(NumberProblem::NotNumeric),
    }
}

/// What a DV field says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DvText {
    /// A number.
    Number(f64),
    /// Nothing.
    Missing,
    /// Below the limit, with the limit when the text gives it (`<20`).
    BelowLimit(Option<f64>),
    /// A text that is none of the above.
    Invalid(NumberProblem),
}

/// Read a DV field.
pub fn parse_dv(field: &str) -> DvText {
    if is_missing(field) {
        return DvText::Missing;
    }
    let t = field.trim();
    let lower = t.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "blq" | "bql" | "<lloq" | "<loq" | "< lloq" | "< loq"
    ) {
        return DvText::BelowLimit(None);
    }
    if let Some(rest) = t.strip_prefix('<') {
        return match parse_number(rest) {
            Ok(x) => DvText::BelowLimit(Some(x)),
            Err(p) => DvText::Invalid(p),
        };
    }
    match parse_number(t) {
        Ok(x) => DvText::Number(x),
        Err(p) => DvText::Invalid(p),
    }
}

/// Read a 0/1 flag (CENS, MDV): `None` when missing.
pub fn parse_flag(field: &str) -> Result<Option<bool>, ()> {
    if is_missing(field) {
        return Ok(None);
    }
    match parse_number(field) {
        Ok(0.0) => Ok(Some(false)),
        Ok(1.0) => Ok(Some(true)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dv_forms() {
        assert_eq!(parse_dv(" 12.5 "), DvText::Number(12.5));
        assert_eq!(parse_dv("2e3"), DvText::Number(2000.0));
        assert_eq!(parse_dv(""), DvText::Missing);
        assert_eq!(parse_dv("."), DvText::Missing);
        assert_eq!(parse_dv("BLQ"), DvText::BelowLimit(None));
        assert_eq!(parse_dv("bql"), DvText::BelowLimit(None));
        assert_eq!(parse_dv("<LLOQ"), DvText::BelowLimit(None));
        assert_eq!(parse_dv("<20"), DvText::BelowLimit(Some(20.0)));
        assert_eq!(parse_dv("< 0.5"), DvText::BelowLimit(Some(0.5)));
        assert_eq!(parse_dv("abc"), DvText::Invalid(NumberProblem::NotNumeric));
        assert_eq!(parse_dv("NaN"), DvText::Invalid(NumberProblem::NonFinite));
        assert_eq!(parse_dv("<inf"), DvText::Invalid(NumberProblem::NonFinite));
    }

    #[test]
    fn flags_and_round_trip_formatting() {
        assert_eq!(parse_flag("1"), Ok(Some(true)));
        assert_eq!(parse_flag("0.0"), Ok(Some(false)));
        assert_eq!(parse_flag(""), Ok(None));
        assert_eq!(parse_flag("2"), Err(()));
        for x in [0.1, 1.0 / 3.0, 2.5e7, -7.0, 1e-300, 123456789.123] {
            assert_eq!(parse_number(&crate::report::table::number(x)), Ok(x));
        }
    }
}
