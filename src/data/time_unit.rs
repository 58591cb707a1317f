//! Time units of data and models: days (cartkin's default) or hours.
//!
//! A model file declares its unit (`time_unit hours|days`, default days); a dataset is
//! read in days unless the user says hours (`--time-unit`, or `time_unit` in a
//! scenario). When the two differ, the dataset's times, infusion durations and
//! additional-dose intervals are converted to the model's unit when it is bound to the
//! model (t_model = t_data · factor, factor = 1/24 from hours to days, 24 from days to
//! hours), so estimates come out in the model's units. Amounts are not touched.

use std::fmt;

/// A unit of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Days (the default of data and models).
    #[default]
    Days,
    /// Hours.
    Hours,
}

impl TimeUnit {
    /// Parse `days` or `hours` (also `day`, `d`, `hour`, `h`; case-insensitive).
    pub fn parse(text: &str) -> Result<TimeUnit, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "days" | "day" | "d" => Ok(TimeUnit::Days),
            "hours" | "hour" | "h" => Ok(TimeUnit::Hours),
            other => Err(format!("'{other}': expected hours or days")),
        }
    }

    /// The length of one unit in hours.
    pub fn hours(self) -> f64 {
        match self {
            TimeUnit::Days => 24.0,
            TimeUnit::Hours => 1.0,
        }
    }

    /// The factor that turns a time in `self` into a time in `to`.
    pub fn factor_to(self, to: TimeUnit) -> f64 {
        self.hours() / to.hours()
    }

    /// The unit's name, plural: `days` or `hours`.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Hours => "hours",
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_and_names() {
        assert_eq!(TimeUnit::Hours.factor_to(TimeUnit::Days), 1.0 / 24.0);
        assert_eq!(TimeUnit::Days.factor_to(TimeUnit::Hours), 24.0);
        assert_eq!(TimeUnit::Days.factor_to(TimeUnit::Days), 1.0);
        assert_eq!(TimeUnit::parse(" Hours "), Ok(TimeUnit::Hours));
        assert_eq!(TimeUnit::parse("d"), Ok(TimeUnit::Days));
        assert!(TimeUnit::parse("weeks")
            .unwrap_err()
            .contains("hours or days"));
    }
}
