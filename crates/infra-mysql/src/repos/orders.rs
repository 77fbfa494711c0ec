//! Orders, and the transactions that move money with them: opening (debit + order + first
//! row), closing (end + settlement and refund + rows) and switching (both in one).
//!
//! Where the store keeps the money ([`MoneyKeeper::Store`]), each transaction moves the
//! project's balance once, by the net of what it charges and refunds: a debit guarded by
//! `BALANCE >= net` (so concurrent spenders never overdraw) or a credit guarded against
//! overflow. A net the balance cannot cover is `InsufficientBalance`, and the transaction
//! rolls back whole. Where a charge service keeps it, the caller has already taken what is
//! charged, so the balance is left alone; money owed back is queued in DF_CREDIT_QUEUE in
//! the same transaction, so it is delivered even if the process dies right after the commit.

use async_trait::async_trait;

use domain::consumption::Consumption;
use domain::ids::{OrderId, ProjectId};
use domain::order::{Order, OrderStatus};
use domain::page::{Page, PageRequest};
use domain::payment::{MoneyKeeper, PaymentDirection};
use domain::ports::{OrderClosing, OrderFilter, OrderOpening, OrderRepository};
use domain::{Error, Money, Result};

use crate::backend::DbConnection;
use crate::database::Database;
use crate::error::{violates_key, RepoError};
use crate::mapping::{self, to_db_sequence, to_db_time};
use crate::rows::consumption::NewConsumptionRow;
use crate::rows::order::{EndOrder, NewOrderRow, ACTIVE_RESOURCE_NAME_KEY};
use crate::rows::{balance, consumption, credit, order, Window};

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

    async fn switch(&self, closing: OrderClosing, opening: OrderOpening) -> Result<Order> {
        check_closing(&closing)?;
        check_opening(&opening)?;
        if closing.end_row.project != opening.order.project {
            return Err(Error::Internal(format!(
                "switch from order {} of project {} to order {} of project {}",
                closing.order_id, closing.end_row.project, opening.order.id, opening.order.project
            )));
        }
        self.db
            .write(move |conn| switch(conn, &closing, &opening))
            .await
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

/// Settlement rows: positive charges of this order numbered from the expected last consume
/// id on; then the end row, numbered after them, refunding (or zero).
fn check_closing(closing: &OrderClosing) -> Result<()> {
    let id = &closing.order_id;
    let mut previous = closing.expected_last_consume_id;
    for row in closing.settlement.iter().chain([&closing.end_row]) {
        if row.order_id != *id || row.project != closing.end_row.project {
            return Err(Error::Internal(format!(
                "closing row #{} of order {id} belongs to order {} of project {}",
                row.consume_id, row.order_id, row.project
            )));
        }
        if Some(row.consume_id) != previous.checked_add(1) {
            return Err(Error::Internal(format!(
                "closing row of order {id} is #{} but should follow #{previous}",
                row.consume_id
            )));
        }
        previous = row.consume_id;
    }
    if let Some(row) = closing
        .settlement
        .iter()
        .find(|row| row.amount.is_negative())
    {
        return Err(Error::Internal(format!(
            "settlement row #{} of order {id} refunds {} instead of charging",
            row.consume_id, row.amount
        )));
    }
    if closing.end_row.amount.is_positive() {
        return Err(Error::Internal(format!(
            "end row of order {id} charges {} instead of refunding",
            closing.end_row.amount
        )));
    }
    check_credit(closing)
}

/// A queued credit comes only with a charge service, gives money back to the order's project
/// and is named by one of the rows this closing writes (the row that records it).
fn check_credit(closing: &OrderClosing) -> Result<()> {
    let id = &closing.order_id;
    let Some(credit) = &closing.credit else {
        return Ok(());
    };
    let bug = |what: String| Err(Error::Internal(format!("credit of order {id}: {what}")));
    if closing.keeper != MoneyKeeper::ChargeService {
        return bug("queued although the store keeps the money".into());
    }
    if credit.direction != PaymentDirection::Credit || !credit.amount.is_positive() {
        return bug(format!(
            "{} of {} instead of a positive credit",
            credit.direction.label(),
            credit.amount
        ));
    }
    if credit.project != closing.end_row.project {
        return bug(format!("for project {}", credit.project));
    }
    let written = closing.expected_last_consume_id.saturating_add(1)..=closing.end_row.consume_id;
    if credit.reason.order != *id || !written.contains(&credit.reason.consume_id) {
        return bug(format!(
            "reason {} names no row of this closing",
            credit.reason
        ));
    }
    Ok(())
}

fn open(conn: &mut DbConnection, opening: &OrderOpening) -> std::result::Result<(), RepoError> {
    let at = opening.order.start_time;
    move_balance(conn, &opening.order.project, store_charge(opening), at)?;
    insert_order(conn, &opening.order)?;
    insert_rows(conn, opening.first_charge.iter())
}

fn close(conn: &mut DbConnection, closing: &OrderClosing) -> std::result::Result<Order, RepoError> {
    let ended = end_order(conn, closing)?;
    move_balance(
        conn,
        &ended.project,
        store_closing_net(closing)?,
        closing.end_time,
    )?;
    insert_rows(conn, closing_rows(closing))?;
    queue_credit(conn, closing)?;
    Ok(ended)
}

/// The old order ends and the new one opens; the balance moves once, by the net of the
/// parts the store keeps the money of.
fn switch(
    conn: &mut DbConnection,
    closing: &OrderClosing,
    opening: &OrderOpening,
) -> std::result::Result<Order, RepoError> {
    let ended = end_order(conn, closing)?;
    let net = add(
        store_closing_net(closing)?,
        store_charge(opening),
        &closing.order_id,
    )?;
    move_balance(conn, &ended.project, net, closing.end_time)?;
    insert_order(conn, &opening.order)?;
    insert_rows(
        conn,
        closing_rows(closing).chain(opening.first_charge.iter()),
    )?;
    queue_credit(conn, closing)?;
    Ok(ended)
}

/// What opening takes from the store's ledger: the first charge, unless a charge service
/// keeps the money.
fn store_charge(opening: &OrderOpening) -> Money {
    match opening.keeper {
        MoneyKeeper::Store => opening
            .first_charge
            .as_ref()
            .map_or(Money::ZERO, |c| c.amount),
        MoneyKeeper::ChargeService => Money::ZERO,
    }
}

/// What closing takes from (or, negative, gives back to) the store's ledger.
fn store_closing_net(closing: &OrderClosing) -> Result<Money> {
    match closing.keeper {
        MoneyKeeper::Store => closing_net(closing),
        MoneyKeeper::ChargeService => Ok(Money::ZERO),
    }
}

/// Queues the closing's credit, due at once; its row was inserted just before.
fn queue_credit(
    conn: &mut DbConnection,
    closing: &OrderClosing,
) -> std::result::Result<(), RepoError> {
    let Some(payment) = &closing.credit else {
        return Ok(());
    };
    let at = to_db_time(closing.end_time);
    Ok(credit::insert(conn, &mapping::queued_credit(payment, at)?)?)
}

fn closing_rows(closing: &OrderClosing) -> impl Iterator<Item = &Consumption> {
    closing.settlement.iter().chain([&closing.end_row])
}

/// What closing takes from the balance: the settlement less the refund (negative when it
/// gives money back).
fn closing_net(closing: &OrderClosing) -> Result<Money> {
    closing_rows(closing).try_fold(Money::ZERO, |sum, row| {
        add(sum, row.amount, &closing.order_id)
    })
}

fn add(sum: Money, amount: Money, order: &OrderId) -> Result<Money> {
    sum.checked_add(amount)
        .ok_or_else(|| Error::Internal(format!("the amounts of order {order} overflow")))
}

/// Debits a positive `net` if the balance covers it (else `InsufficientBalance`), credits a
/// negative one; zero touches nothing.
fn move_balance(
    conn: &mut DbConnection,
    project: &ProjectId,
    net: Money,
    at: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<(), RepoError> {
    let at = to_db_time(at);
    if net.is_positive() {
        if balance::debit(conn, project.as_str(), net.minor(), at)? {
            return Ok(());
        }
        let available = balance::find(conn, project.as_str())?
            .map_or(Money::ZERO, |row| Money::from_minor(row.amount));
        return Err(RepoError::Domain(Error::InsufficientBalance {
            needed: net,
            available,
        }));
    }
    if net.is_negative() {
        let refund = net
            .checked_neg()
            .ok_or_else(|| Error::Internal(format!("refund of {net} overflows")))?;
        if balance::credit(conn, project.as_str(), refund.minor(), at)?
            == balance::Credit::WouldOverflow
        {
            return Err(RepoError::Domain(Error::Internal(format!(
                "refunding {refund} to project {project} would overflow its balance"
            ))));
        }
    }
    Ok(())
}

fn insert_order(conn: &mut DbConnection, new_order: &Order) -> std::result::Result<(), RepoError> {
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
    })
}

fn insert_rows<'a>(
    conn: &mut DbConnection,
    rows: impl Iterator<Item = &'a Consumption>,
) -> std::result::Result<(), RepoError> {
    let rows = rows
        .map(NewConsumptionRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(consumption::insert_all(conn, &rows)?)
}

/// Ends the order if it still has the state the closing was computed from; returns it
/// as ended.
fn end_order(
    conn: &mut DbConnection,
    closing: &OrderClosing,
) -> std::result::Result<Order, RepoError> {
    let order_id = closing.order_id.as_str();
    let ended = order::end(
        conn,
        &EndOrder {
            order_id,
            expected_last_consume_id: to_db_sequence(closing.expected_last_consume_id)?,
            end_time: to_db_time(closing.end_time),
            last_consume_id: to_db_sequence(closing.end_row.consume_id)?,
        },
    )?;
    if !ended {
        return Err(RepoError::Domain(why_not_ended(conn, closing)?));
    }
    let row = order::find(conn, order_id)?
        .ok_or_else(|| Error::Internal(format!("order {order_id} vanished while ending")))?;
    let ended_order = Order::try_from(row)?;
    if closing.end_row.project != ended_order.project {
        return Err(RepoError::Domain(Error::Internal(format!(
            "end row of order {order_id} names project {} instead of {}",
            closing.end_row.project, ended_order.project
        ))));
    }
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
