//! Reconciling every project, whatever one of them holds.

use std::sync::Arc;

use async_trait::async_trait;

use super::*;
use crate::error::Error;
use crate::ports::BooksRepository;
use crate::reconcile::ProjectBooks;
use crate::testing::{MemoryStore, StorePorts, World};

/// The store's books, but one project's cannot be read (a corrupt row).
struct OneCorruptProject(MemoryStore);

#[async_trait]
impl BooksRepository for OneCorruptProject {
    async fn projects(&self, after: Option<ProjectId>, limit: u32) -> Result<Vec<ProjectId>> {
        self.0.projects(after, limit).await
    }

    async fn books(&self, project: &ProjectId) -> Result<ProjectBooks> {
        if project.as_str() == "broken" {
            return Err(Error::Internal(
                "DF_PURCHASE_ORDER row ID=7: bad CYCLE".into(),
            ));
        }
        self.0.books(project).await
    }
}

#[tokio::test]
async fn a_project_whose_books_cannot_be_read_is_a_mismatch_and_the_others_are_proven() {
    let store = MemoryStore::new();
    let mut ports = StorePorts::memory(&store);
    ports.books = Arc::new(OneCorruptProject(store.clone()));
    let world = World::over(ports, BillingPolicy::default(), plans(), now());
    let admin = principal("admin");
    for project in ["alpha", "broken", "omega"] {
        let project = ProjectId::parse(project).unwrap();
        world
            .usecases
            .recharge(&admin, project, money("10"), None, None)
            .await
            .unwrap();
    }
    store.tamper_with_balance(&ProjectId::parse("omega").unwrap(), money("11"));
    let settings = ReconcileSettings {
        project: None,
        pending_limit: chrono::TimeDelta::hours(1),
    };
    let report = world
        .usecases
        .reconcile(&settings, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.projects, 3);
    let found: Vec<_> = report
        .mismatches
        .iter()
        .map(|(project, m)| (project.as_str(), matches!(m, Mismatch::Unreadable { .. })))
        .collect();
    assert_eq!(found, [("broken", true), ("omega", false)]);
}
