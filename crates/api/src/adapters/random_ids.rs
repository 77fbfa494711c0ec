//! Order ids: random UUIDs, so ids are unguessable and need no database round trip.

use domain::ids::OrderId;
use domain::ports::IdGenerator;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn order_id(&self) -> OrderId {
        let text = Uuid::new_v4().simple().to_string();
        match OrderId::parse(&text) {
            Ok(id) => id,
            // 32 lower-case hex digits always make a valid order id.
            Err(e) => unreachable!("uuid {text} is not an order id: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_differ() {
        let (a, b) = (RandomIds.order_id(), RandomIds.order_id());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
