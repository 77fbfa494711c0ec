//! Orders, and the two transactions that move money with them: opening (debit + order +
//! first row) and closing (end + refund + end row).

use async_trait::async_trait;

use domain::consumption::Consumption;
use domain::ids::OrderId;
use domain::order::{Order, OrderStatus};
use domain::page::{Page, PageRequest};
use domain::ports::{OrderClosing, OrderFilter, OrderOpening, OrderRepository};
use domain::{Error, Money, Result};

use crate::backend::DbConnection;
use crate::database::Database;
use crate::error::{violates_key, RepoError};
use crate::mapping::{to_db_sequence, to_db_time};
use crate::rows::order::{EndOrder, NewOrderRow, ACTIVE_RESOURCE_NAME_KEY};
use crate::rows::{balance, consumption, order, Window};

/// [`OrderRepository`] on the database.
#[derive(Clone, Debug)]
pub struct OrderStore {
    db: Database,
}

impl OrderStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OrderRepository for OrderStore {
    async fn find(&self, id: &OrderId) -> Result<Option<Order>> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                order::find(conn, id.as_str())?
                    .map(Order::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }

    async fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>> {
        self.db
            .read(move |conn| {
                let total = order::count(conn, &filter)?;
                let rows = order::list(conn, &filter, Window::of(page))?;
                let items = rows
                    .into_iter()
                    .map(Order::try_from)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Page {
                    total: u64::try_from(total).unwrap_or_default(),
                    items,
                })
            })
            .await
    }

    async fn open(&self, opening: OrderOpening) -> Result<()> {
        check_opening(&opening)?;
        self.db.write(move |conn| open(conn, &opening)).await
    }

    async fn close(&self, closing: OrderClosing) -> Result<Order> {
        check_closing(&closing)?;
        self.db.write(move |conn| close(conn, &closing)).await
    }
}

/// The caller's invariants; a violation is a bug upstream, not a client error.
fn check_opening(opening: &OrderOpening) -> Result<()> {
    let order = &opening.order;
    let expected_last = opening.first_charge.as_ref().map_or(0, |c| c.consume_id);
    if order.last_consume_id != expected_last {
        return Err(Error::Internal(format!(
            "order {} opens with last consume id {}, expected {expected_last} (its first \
             row's number, 0 without one)",
            order.id, order.last_consume_id
        )));
    }
    if let Some(charge) = &opening.first_charge {
        if charge.order_id != order.id || charge.project != order.project {
            return Err(Error::Internal(format!(
                "first charge of order {} belongs to order {} of project {}",
                order.id, charge.order_id, charge.project
            )));
        }
        if charge.amount.is_negative() {
            return Err(Error::Internal(format!(
                "first charge of order {} is negative ({})",
                order.id, charge.amount
            )));
        }
    }
    Ok(())
}

fn check_closing(closing: &OrderClosing) -> Result<()> {
    let row = &closing.end_row;
    if row.order_id != closing.order_id {
        return Err(Error::Internal(format!(
            "end row of order {} belongs to order {}",
            closing.order_id, row.order_id
        )));
    }
    if Some(row.consume_id) != closing.expected_last_consume_id.checked_add(1) {
        return Err(Error::Internal(format!(
            "end row of order {} is #{} but should follow #{}",
            closing.order_id, row.consume_id, closing.expected_last_consume_id
        )));
    }
    if row.amount.is_positive() {
        return Err(Error::Internal(format!(
            "end row of order {} charges {} instead of refunding",
            closing.order_id, row.amount
        )));
    }
    Ok(())
}

fn open(conn: &mut DbConnection, opening: &OrderOpening) -> std::result::Result<(), RepoError> {
    let new_order = &opening.order;
    if let Some(charge) = &opening.first_charge {
        if charge.amount.is_positive() {
            take_from_balance(conn, charge)?;
        }
    }
    let row = NewOrderRow::try_from(new_order)?;
    order::insert(conn, &row).map_err(|e| {
        if violates_key(&e, ACTIVE_RESOURCE_NAME_KEY) {
            let name = new_order
                .resource_name
                .as_ref()
                .map_or_else(String::new, |n| n.as_str().to_owned());
            RepoError::Domain(Error::DuplicateResourceName(name))
        } else {
            RepoError::from(e)
        }
    })?;
    if let Some(charge) = &opening.first_charge {
        consumption::insert(conn, &charge.try_into()?)?;
    }
    Ok(())
}

fn take_from_balance(
    conn: &mut DbConnection,
    charge: &Consumption,
) -> std::result::Result<(), RepoError> {
    let project = charge.project.as_str();
    let amount = charge.amount.minor();
    if balance::debit(conn, project, amount, to_db_time(charge.time))? {
        return Ok(());
    }
    let available =
        balance::find(conn, project)?.map_or(Money::ZERO, |row| Money::from_minor(row.amount));
    Err(RepoError::Domain(Error::InsufficientBalance {
        needed: charge.amount,
        available,
    }))
}

fn close(conn: &mut DbConnection, closing: &OrderClosing) -> std::result::Result<Order, RepoError> {
    let order_id = closing.order_id.as_str();
    let end_row = &closing.end_row;
    let ended = order::end(
        conn,
        &EndOrder {
            order_id,
            expected_last_consume_id: to_db_sequence(closing.expected_last_consume_id)?,
            end_time: to_db_time(closing.end_time),
            last_consume_id: to_db_sequence(end_row.consume_id)?,
        },
    )?;
    if !ended {
        return Err(RepoError::Domain(why_not_ended(conn, closing)?));
    }
    let row = order::find(conn, order_id)?
        .ok_or_else(|| Error::Internal(format!("order {order_id} vanished while ending")))?;
    let ended_order = Order::try_from(row)?;
    if end_row.project != ended_order.project {
        return Err(RepoError::Domain(Error::Internal(format!(
            "end row of order {order_id} names project {} instead of {}",
            end_row.project, ended_order.project
        ))));
    }
    let refund = end_row
        .amount
        .checked_neg()
        .ok_or_else(|| Error::Internal(format!("refund of order {order_id} overflows")))?;
    if refund.is_positive() {
        let credited = balance::credit(
            conn,
            ended_order.project.as_str(),
            refund.minor(),
            to_db_time(closing.end_time),
        )?;
        if credited == balance::Credit::WouldOverflow {
            return Err(RepoError::Domain(Error::Internal(format!(
                "refunding {refund} to project {} would overflow its balance",
                ended_order.project
            ))));
        }
    }
    consumption::insert(conn, &end_row.try_into()?)?;
    Ok(ended_order)
}

/// Why the guarded update changed nothing.
fn why_not_ended(
    conn: &mut DbConnection,
    closing: &OrderClosing,
) -> std::result::Result<Error, RepoError> {
    let id = &closing.order_id;
    Ok(match order::find(conn, id.as_str())? {
        None => Error::NotFound(format!("order {id}")),
        Some(row) if row.status == OrderStatus::Ended.code() => {
            Error::Conflict(format!("order {id} is already ended"))
        }
        Some(row) => Error::Conflict(format!(
            "order {id} changed meanwhile (last consume id {}, expected {})",
            row.last_consume_id, closing.expected_last_consume_id
        )),
    })
}
