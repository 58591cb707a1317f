//! A model whose typical values (and ω²) are a fit's estimates, so that a refit starts
//! from them: the individual fit's first start point and the population fit's initial
//! θ and (diagonal) Ω are the model's typical values and ω². Predictions are the
//! wrapped model's.

use crate::model::{Individual, Output, Parameter, Predict, PredictError};

/// `model` with other typical values and ω² (see the module header).
pub struct StartedModel<'a> {
    model: &'a dyn Predict,
    parameters: Vec<Parameter>,
}

impl<'a> StartedModel<'a> {
    /// `model` with typical values `typical` (name, natural value; each clamped into the
    /// parameter's bounds) and ω² `omega2` (name, variance on the estimation scale; only
    /// for parameters with between-subject variability).
    pub fn new(
        model: &'a dyn Predict,
        typical: &[(String, f64)],
        omega2: &[(String, f64)],
    ) -> Self {
        let mut parameters = model.parameters().to_vec();
        for p in &mut parameters {
            if let Some((_, v)) = typical.iter().find(|(n, _)| *n == p.name) {
                if v.is_finite() {
                    p.typical = v.clamp(p.lower, p.upper);
                }
            }
            if p.omega2.is_some() {
                if let Some((_, w)) = omega2.iter().find(|(n, _)| *n == p.name) {
                    if w.is_finite() && *w > 0.0 {
                        p.omega2 = Some(*w);
                    }
                }
            }
        }
        StartedModel { model, parameters }
    }
}

impl Predict for StartedModel<'_> {
    fn name(&self) -> &str {
        self.model.name()
    }
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }
    fn outputs(&self) -> &[Output] {
        self.model.outputs()
    }
    fn predict(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        self.model.predict(theta, individual, times, outputs, out)
    }
    fn omega_blocks(&self) -> &[Vec<String>] {
        self.model.omega_blocks()
    }
}
