//! Payments, as the settler and the balance read them, and the settler's record of an
//! attempt that did not settle one. Payments are recorded, and settled, by changes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::change::PaymentUpdate;
use domain::ids::{ProjectId, Region};
use domain::payment::{MoneyKeeper, Payment, PaymentId, PaymentState};
use domain::ports::PaymentRepository;
use domain::Result;

use crate::database::Database;
use crate::error::RepoError;
use crate::mapping::{keeper_code, payment_update, state_code, to_db_time};
use crate::rows::payment::{self, Due};

/// [`PaymentRepository`] on the database.
#[derive(Clone, Debug)]
pub struct PaymentStore {
    db: Database,
}

impl PaymentStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl PaymentRepository for PaymentStore {
    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        paused: Vec<Region>,
    ) -> Result<Vec<Payment>> {
        self.db
            .read(move |conn| {
                let due = Due {
                    states: PaymentState::OPEN.map(state_code),
                    keeper: keeper_code(MoneyKeeper::ChargeService),
                    now: to_db_time(now),
                    paused: paused.iter().map(Region::as_str).collect(),
                    limit: i64::from(limit),
                };
                Ok(payment::due(conn, &due)?
                    .into_iter()
                    .map(Payment::try_from)
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn find(&self, id: &PaymentId) -> Result<Option<Payment>> {
        let order = id.order.clone();
        let seq = i32::try_from(id.seq).ok();
        self.db
            .read(move |conn| {
                let Some(seq) = seq else {
                    return Ok(None);
                };
                payment::find(conn, order.as_str(), seq)?
                    .map(Payment::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }

    async fn unsettled(&self, project: &ProjectId) -> Result<Vec<Payment>> {
        let project = project.clone();
        self.db
            .read(move |conn| {
                let states = PaymentState::UNSETTLED.map(state_code);
                Ok(payment::of_project_in(conn, project.as_str(), &states)?
                    .into_iter()
                    .map(Payment::try_from)
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn attempted(&self, update: PaymentUpdate, attempts_before: u32) -> Result<bool> {
        self.db
            .write(move |conn| {
                let row = payment_update(&update, Some(attempts_before))?;
                Ok(payment::update(conn, &row)?)
            })
            .await
    }
}
