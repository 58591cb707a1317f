//! BLQ rules: which samples below the limit of quantification enter the NCA profile,
//! and as what (PKNCA `clean.conc.blq` with `first`, `middle`, `last`).
//!
//! Positions are taken among the post-dose samples (t ≥ 0): *before first* = before the
//! first quantifiable sample, *between* = between the first and the last quantifiable
//! sample, *after last* = after Tlast. A profile without any quantifiable sample is all
//! "before first". Pre-dose samples (t < 0) never enter the PK profile.

use super::auc::Point;
use super::profile::Sample;
use super::settings::{BlqRule, BlqRules};
use super::NcaError;

/// Apply `rules` to the post-dose `samples` (sorted, t ≥ 0): the points that enter the
/// AUC. Error when a rule needs a limit of quantification that a sample lacks.
pub fn apply_blq_rules(samples: &[Sample], rules: &BlqRules) -> Result<Vec<Point>, NcaError> {
    let first_q = samples.iter().position(Sample::is_quantifiable);
    let last_q = samples.iter().rposition(Sample::is_quantifiable);
    let mut points = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        if s.is_quantifiable() {
            points.push(Point {
                time: s.time,
                conc: s.value,
            });
            continue;
        }
        let rule = match (first_q, last_q) {
            (Some(f), _) if i < f => rules.before_first,
            (_, Some(l)) if i > l => rules.after_last,
            (Some(_), Some(_)) => rules.between,
            _ => rules.before_first,
        };
        let conc = match rule {
            BlqRule::Drop => continue,
            BlqRule::Zero => 0.0,
            BlqRule::Lloq | BlqRule::HalfLloq => {
                let limit = s.limit().ok_or(NcaError::MissingLimit { time: s.time })?;
                if rule == BlqRule::Lloq {
                    limit
                } else {
                    0.5 * limit
                }
            }
        };
        points.push(Point { time: s.time, conc });
    }
    Ok(points)
}
