//! The progress bar of the commands that work subject by subject.

use std::io::IsTerminal;

/// A bar over the subjects on standard error when it is a terminal; silent otherwise.
pub(crate) struct SubjectProgress(Option<indicatif::ProgressBar>);

impl SubjectProgress {
    /// A bar over `n` subjects.
    pub fn new(n: u64) -> Self {
        SubjectProgress(std::io::stderr().is_terminal().then(|| {
            let pb = indicatif::ProgressBar::new(n);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} subjects ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        }))
    }

    /// `k` more subjects done.
    pub fn inc(&self, k: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(k);
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
