//! The embedded notifier: events go to the log and to DF_NOTIFICATION, where projects
//! read them back.

use async_trait::async_trait;

use domain::notification::Notification;
use domain::page::{Page, PageRequest};
use domain::ports::{NotificationFilter, NotificationRepository, Notifier};
use domain::Result;

use crate::database::Database;
use crate::rows::notification::NewNotificationRow;
use crate::rows::{notification, Window};

/// [`Notifier`] and [`NotificationRepository`] on the database.
#[derive(Clone, Debug)]
pub struct NotificationStore {
    db: Database,
}

impl NotificationStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Notifier for NotificationStore {
    /// One statement for all the events, so a renewal batch's hundreds of events cost one
    /// round trip; logged once stored, so the log never shows an event the table lacks.
    async fn notify(&self, events: Vec<Notification>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let stored = events.clone();
        self.db
            .write(move |conn| {
                let rows: Vec<NewNotificationRow<'_>> =
                    stored.iter().map(NewNotificationRow::from).collect();
                Ok(notification::insert_all(conn, &rows)?)
            })
            .await?;
        for event in &events {
            log::info!(
                "notification {} project={} order={}: {}",
                event.kind.label(),
                event.project,
                event.order_id,
                event.message
            );
        }
        Ok(())
    }
}

#[async_trait]
impl NotificationRepository for NotificationStore {
    async fn list(
        &self,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        self.db
            .read(move |conn| {
                let total = notification::count(conn, &filter)?;
                let items = notification::list(conn, &filter, Window::of(page))?
                    .into_iter()
                    .map(Notification::try_from)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Page {
                    total: u64::try_from(total).unwrap_or_default(),
                    items,
                })
            })
            .await
    }
}
