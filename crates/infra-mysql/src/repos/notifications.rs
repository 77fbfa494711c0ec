//! The notifications projects read. They are written by changes, each with its webhook
//! deliveries, in the change's transaction (see `changes`).

use async_trait::async_trait;

use domain::notification::Notification;
use domain::page::{Page, PageRequest};
use domain::ports::{NotificationFilter, NotificationRepository};
use domain::Result;

use crate::database::Database;
use crate::rows::{notification, Window};

/// [`NotificationRepository`] on the database.
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
impl NotificationRepository for NotificationStore {
    async fn list(
        &self,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        self.db
            .read(move |conn| {
                let (rows, total) = notification::page(conn, &filter, Window::of(page))?;
                let items = rows
                    .into_iter()
                    .map(Notification::try_from)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Page::exact(u64::try_from(total).unwrap_or_default(), items))
            })
            .await
    }
}
