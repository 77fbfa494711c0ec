//! How an order came to be (51idc's `order_type`): bought new, or opened by a plan switch.
//! Derived from the order itself ([`Order::order_type`]), so it can never disagree with it;
//! later kinds (a renewal order of a period plan, a transfer) extend the enum.

use crate::error::{Error, Result};
use crate::order::Order;

/// How an order came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderType {
    /// Bought on its own.
    New,
    /// Opened by switching another order's plan (it `replaces` that order).
    Switch,
}

impl OrderType {
    /// Every order type, in the order enumerations list them.
    pub const ALL: [OrderType; 2] = [OrderType::New, OrderType::Switch];

    /// The code stored where orders are counted by type.
    pub fn code(self) -> i16 {
        match self {
            OrderType::New => 0,
            OrderType::Switch => 1,
        }
    }

    /// The name the API shows and filters by.
    pub fn label(self) -> &'static str {
        match self {
            OrderType::New => "new",
            OrderType::Switch => "switch",
        }
    }

    /// Parses an `order_type` filter. Errors: `InvalidParameter` naming the types.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.label() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "order_type must be one of new, switch (got {text:?})"
                ))
            })
    }
}

impl Order {
    /// How the order came to be: a switch when it replaces another order.
    pub fn order_type(&self) -> OrderType {
        if self.replaces.is_some() {
            OrderType::Switch
        } else {
            OrderType::New
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn labels_parse_back_and_codes_differ() {
        for kind in OrderType::ALL {
            assert_eq!(OrderType::parse(kind.label()).unwrap(), kind);
        }
        assert_ne!(OrderType::New.code(), OrderType::Switch.code());
    }

    #[test]
    fn unknown_or_empty_types_are_refused_naming_the_choices() {
        for text in ["", "New", "renew", " new"] {
            assert_eq!(
                OrderType::parse(text),
                Err(Error::invalid(format!(
                    "order_type must be one of new, switch (got {text:?})"
                ))),
            );
        }
    }
}
