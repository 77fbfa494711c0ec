//! The embedded notifier: events go to the log and to DF_NOTIFICATION, where projects
//! read them back, and, with webhooks configured, into the webhook outbox
//! (DF_WEBHOOK_DELIVERY) in the same transaction, so no event is stored without its
//! deliveries nor delivered without being stored.

use std::sync::Arc;

use async_trait::async_trait;

use domain::notification::Notification;
use domain::page::{Page, PageRequest};
use domain::ports::{NotificationFilter, NotificationRepository, Notifier};
use domain::Result;

use crate::backend::DbConnection;
use crate::database::Database;
use crate::error::RepoError;
use crate::mapping::to_db_time;
use crate::rows::notification::NewNotificationRow;
use crate::rows::webhook_delivery::{self, NewDeliveryRow};
use crate::rows::{notification, Window};

/// [`Notifier`] and [`NotificationRepository`] on the database.
#[derive(Clone, Debug)]
pub struct NotificationStore {
    db: Database,
    /// The configured webhooks' names: each event is delivered to every one.
    endpoints: Arc<[String]>,
}

impl NotificationStore {
    /// Without webhooks.
    pub fn new(db: Database) -> Self {
        Self::with_webhooks(db, Vec::new())
    }

    /// Every event is also queued for delivery to each of `endpoints` (webhook names).
    pub fn with_webhooks(db: Database, endpoints: Vec<String>) -> Self {
        Self {
            db,
            endpoints: endpoints.into(),
        }
    }
}

#[async_trait]
impl Notifier for NotificationStore {
    /// Without webhooks, one statement for all the events, so a renewal batch's hundreds of
    /// events cost one round trip; with webhooks, one per event (its deliveries need its id)
    /// and one for all deliveries. Logged once stored, so the log never shows an event the
    /// table lacks.
    async fn notify(&self, events: Vec<Notification>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let stored = events.clone();
        let endpoints = Arc::clone(&self.endpoints);
        self.db
            .write(move |conn| store(conn, &stored, &endpoints))
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

fn store(
    conn: &mut DbConnection,
    events: &[Notification],
    endpoints: &[String],
) -> std::result::Result<(), RepoError> {
    let rows: Vec<NewNotificationRow<'_>> = events.iter().map(NewNotificationRow::from).collect();
    if endpoints.is_empty() {
        return Ok(notification::insert_all(conn, &rows)?);
    }
    let mut deliveries = Vec::with_capacity(rows.len() * endpoints.len());
    for (row, event) in rows.iter().zip(events) {
        let id = notification::insert(conn, row)?;
        deliveries.extend(endpoints.iter().map(|endpoint| NewDeliveryRow {
            notification_id: id,
            endpoint,
            attempts: 0,
            next_attempt_at: to_db_time(event.time),
        }));
    }
    Ok(webhook_delivery::insert_all(conn, &deliveries)?)
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
