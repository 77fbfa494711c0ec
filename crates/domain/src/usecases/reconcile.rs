//! `serviceusage reconcile`: proves the books project by project (see
//! [`crate::reconcile`]) and reports every mismatch.

use chrono::TimeDelta;

use crate::error::{Error, Result};
use crate::ids::ProjectId;
use crate::reconcile::{check, Mismatch};

use super::UseCases;

/// Projects read per round.
const PAGE: u32 = 200;

/// What to reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// One project, or every project.
    pub project: Option<ProjectId>,
    /// A payment pending longer than this is reported.
    pub pending_limit: TimeDelta,
}

/// What reconciling found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Projects checked.
    pub projects: u64,
    /// What does not add up, with the project it was found in; empty when the books are right.
    pub mismatches: Vec<(ProjectId, Mismatch)>,
}

impl UseCases {
    /// Checks the books of one project or of every project; `found` hears of each mismatch
    /// as it is found (a long run reports as it goes).
    ///
    /// Errors: `Unavailable`, `Internal`.
    pub async fn reconcile(
        &self,
        settings: &ReconcileSettings,
        found: &mut (dyn FnMut(&ProjectId, &Mismatch) + Send),
    ) -> Result<ReconcileReport> {
        let now = self.ports.clock.now();
        let mut report = ReconcileReport::default();
        let mut after = None;
        loop {
            let projects = match &settings.project {
                Some(project) if after.is_none() => vec![project.clone()],
                Some(_) => Vec::new(),
                None => self.ports.books.projects(after.clone(), PAGE).await?,
            };
            let Some(last) = projects.last().cloned() else {
                return Ok(report);
            };
            for project in projects {
                report.projects += 1;
                let mismatches = match self.ports.books.books(&project).await {
                    Ok(books) => check(&books, now, settings.pending_limit),
                    // One corrupt row hides this project's books, not the others'.
                    Err(Error::Internal(why)) => vec![Mismatch::Unreadable { why }],
                    Err(e) => return Err(e),
                };
                for mismatch in mismatches {
                    found(&project, &mismatch);
                    report.mismatches.push((project.clone(), mismatch));
                }
            }
            after = Some(last);
        }
    }
}
