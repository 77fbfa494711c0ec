//! A consumption record (51idc's `consume_record`): one order and what it was charged and
//! refunded, row by row. A view over orders and their consumption history, not a table of
//! its own, so it can never disagree with them.

use std::collections::HashMap;

use crate::consumption::Consumption;
use crate::ids::OrderId;
use crate::order::Order;

/// One order with its consumption rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumptionRecord {
    /// The order.
    pub order: Order,
    /// Its rows, in sequence order: the first charge, renewals, a switch's, the end's
    /// refund or settlement.
    pub rows: Vec<Consumption>,
}

impl ConsumptionRecord {
    /// Each order with its own rows out of `rows` (rows of other orders are left out).
    pub fn assemble(orders: Vec<Order>, rows: Vec<Consumption>) -> Vec<ConsumptionRecord> {
        let mut records: Vec<ConsumptionRecord> = orders
            .into_iter()
            .map(|order| ConsumptionRecord {
                order,
                rows: Vec::new(),
            })
            .collect();
        let at: HashMap<OrderId, usize> = records
            .iter()
            .enumerate()
            .map(|(index, record)| (record.order.id.clone(), index))
            .collect();
        for row in rows {
            if let Some(&index) = at.get(&row.order_id) {
                records[index].rows.push(row);
            }
        }
        for record in &mut records {
            record.rows.sort_by_key(|row| row.consume_id);
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumption::ConsumptionKind;
    use crate::testing::{row_of, OrderBuilder};

    fn row(order: &Order, consume_id: u32) -> Consumption {
        row_of(order, consume_id, "100", ConsumptionKind::New)
    }

    #[test]
    fn each_order_gets_its_own_rows_in_sequence_and_no_other() {
        let a = OrderBuilder::default().id("a").build();
        let b = OrderBuilder::default().id("b").build();
        let stranger = OrderBuilder::default().id("c").build();
        let records = ConsumptionRecord::assemble(
            vec![a.clone(), b.clone()],
            vec![row(&a, 2), row(&b, 1), row(&stranger, 1), row(&a, 1)],
        );
        let seen: Vec<(String, Vec<u32>)> = records
            .iter()
            .map(|r| {
                (
                    r.order.id.to_string(),
                    r.rows.iter().map(|row| row.consume_id).collect(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [("a".to_owned(), vec![1, 2]), ("b".to_owned(), vec![1])]
        );
    }
}
