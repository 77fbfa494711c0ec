//! The local ledger: balances and recharges. A recharge credits the balance (paying any
//! arrears first: a negative balance simply rises) and records the request's idempotency
//! key in the same transaction.

use async_trait::async_trait;

use domain::idempotency::{Idempotency, IdempotencyRecord};
use domain::ids::ProjectId;
use domain::ledger::{Balance, NewRecharge, Recharge};
use domain::page::{Page, PageRequest};
use domain::ports::{LedgerRepository, RechargeFilter};
use domain::{Error, Result};

use crate::backend::DbConnection;
use crate::database::Database;
use crate::error::{classify, Failure, RepoError};
use crate::mapping::{self, to_db_time};
use crate::repos::changes::record_key;
use crate::rows::balance::{self, Moved, Movement};
use crate::rows::recharge::{NewRechargeRow, RechargeRow};
use crate::rows::{recharge, Window};

/// [`LedgerRepository`] on the database.
#[derive(Clone, Debug)]
pub struct LedgerStore {
    db: Database,
}

impl LedgerStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl LedgerRepository for LedgerStore {
    async fn balance(&self, project: &ProjectId) -> Result<Balance> {
        let project = project.clone();
        self.db
            .read(move |conn| {
                let row = balance::find(conn, project.as_str())?;
                Ok(mapping::balance(&project, row)?)
            })
            .await
    }

    async fn recharge(
        &self,
        new: NewRecharge,
        key: Option<Idempotency>,
    ) -> Result<(Recharge, Balance)> {
        positive(&new)?;
        self.db
            .write(move |conn| record_recharge(conn, &new, key.as_ref()))
            .await
    }

    async fn find_recharge(&self, project: &ProjectId, id: i64) -> Result<Option<Recharge>> {
        let project = project.clone();
        self.db
            .read(move |conn| {
                recharge::find(conn, project.as_str(), id)?
                    .map(Recharge::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }

    /// Without a time range one statement, the total kept; with one, the page and a
    /// bounded count in one snapshot.
    async fn list_recharges(
        &self,
        filter: &RechargeFilter,
        page: PageRequest,
    ) -> Result<Page<Recharge>> {
        let filter = filter.clone();
        let window = Window::of(page);
        let recharges = |rows: Vec<RechargeRow>| -> Result<Vec<Recharge>> {
            rows.into_iter().map(Recharge::try_from).collect()
        };
        if filter.created.is_open() {
            return self
                .db
                .read(move |conn| {
                    let (rows, total) = recharge::page(conn, filter.project.as_str(), window)?;
                    Ok(Page::exact(
                        u64::try_from(total).unwrap_or_default(),
                        recharges(rows)?,
                    ))
                })
                .await;
        }
        self.db
            .snapshot(move |conn| {
                let (rows, counted) =
                    recharge::page_in(conn, filter.project.as_str(), &filter.created, window)?;
                Ok(Page::counted(counted, recharges(rows)?))
            })
            .await
    }

    async fn open_account(&self, new: NewRecharge) -> Result<bool> {
        positive(&new)?;
        self.db.write(move |conn| open_account(conn, &new)).await
    }
}

/// Recharges only ever add money; the domain validates that before calling.
fn positive(new: &NewRecharge) -> Result<()> {
    if new.amount.is_positive() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "recharge of project {} is not positive ({})",
            new.project, new.amount
        )))
    }
}

fn record_recharge(
    conn: &mut DbConnection,
    new: &NewRecharge,
    key: Option<&Idempotency>,
) -> std::result::Result<(Recharge, Balance), RepoError> {
    let project = new.project.as_str();
    let credit = Movement {
        project,
        amount: -new.amount.minor(),
        requires: None,
    };
    match balance::apply(conn, credit, to_db_time(new.time))? {
        Moved::Done => {}
        Moved::Short { .. } | Moved::Overflow => {
            return Err(RepoError::Domain(Error::invalid(format!(
                "recharging {} would overflow the balance of project {project}",
                new.amount
            ))))
        }
    }
    let id = recharge::insert(conn, &NewRechargeRow::from(new))?;
    if let Some(request) = key {
        record_key(
            conn,
            &IdempotencyRecord {
                request: request.clone(),
                result: format!("recharge:{id}"),
                at: new.time,
            },
        )?;
    }
    let balance = mapping::balance(&new.project, balance::find(conn, project)?)?;
    Ok((mapping::recorded(new, id), balance))
}

/// Creating the balance row is the claim: of two concurrent openings, the second one's
/// insert meets the first one's row (waiting for it to commit on MySQL) and gives up.
fn open_account(
    conn: &mut DbConnection,
    new: &NewRecharge,
) -> std::result::Result<bool, RepoError> {
    let project = new.project.as_str();
    if recharge::any(conn, project)? {
        return Ok(false);
    }
    match balance::insert(conn, project, new.amount.minor(), to_db_time(new.time)) {
        Ok(()) => {}
        Err(e) if classify(&e) == Failure::Duplicate => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    recharge::insert(conn, &NewRechargeRow::from(new))?;
    Ok(true)
}
