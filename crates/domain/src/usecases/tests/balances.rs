use super::*;
use crate::error::Error;
use crate::ledger::{Balance, NewRecharge, Recharge, MAX_COMMENT_CHARS, MAX_RECHARGE};
use crate::page::{Page, PageRequest};

const NOW: &str = "2017-01-11T12:00:00Z";

fn balance(amount: &str) -> Balance {
    Balance {
        project: project(),
        amount: money(amount),
        updated_at: Some(utc(NOW)),
    }
}

fn recorded(new: &NewRecharge) -> Recharge {
    Recharge {
        id: 7,
        project: new.project.clone(),
        amount: new.amount,
        comment: new.comment.clone(),
        operator: new.operator.clone(),
        time: new.time,
    }
}

impl Mocks {
    /// The ledger records one recharge (capturing it) onto a balance of 250.00.
    fn recharging_into(mut self, captured: &Captured<NewRecharge>) -> Self {
        let slot = captured.handle();
        self.ledger
            .expect_recharge()
            .times(1)
            .returning(move |new| {
                let answer = (recorded(&new), balance("250"));
                slot.put(new);
                Ok(answer)
            });
        self
    }

    fn never_recharges(mut self) -> Self {
        self.ledger.expect_recharge().never();
        self
    }
}

async fn recharge_refused(principal: Principal, amount: Money, comment: Option<String>) -> Error {
    let use_cases = Mocks::new().at(utc(NOW)).never_recharges().build();
    use_cases
        .recharge(&principal, project(), amount, comment)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn recharge_records_amount_comment_operator_and_clock_time() {
    let captured = Captured::new();
    let use_cases = Mocks::new().at(utc(NOW)).recharging_into(&captured).build();
    use_cases
        .recharge(&admin(), project(), money("150"), Some("invoice 42".into()))
        .await
        .unwrap();
    assert_eq!(
        captured.take(),
        NewRecharge {
            project: project(),
            amount: money("150"),
            comment: Some("invoice 42".into()),
            operator: admin().user,
            time: utc(NOW),
        }
    );
}

#[tokio::test]
async fn recharge_returns_the_record_and_the_new_balance() {
    let captured = Captured::new();
    let use_cases = Mocks::new().at(utc(NOW)).recharging_into(&captured).build();
    let (record, new_balance) = use_cases
        .recharge(&admin(), project(), money("150"), None)
        .await
        .unwrap();
    assert_eq!(record, recorded(&captured.take()));
    assert_eq!(new_balance, balance("250"));
}

#[tokio::test]
async fn recharge_of_the_maximum_is_accepted() {
    let captured = Captured::new();
    let use_cases = Mocks::new().at(utc(NOW)).recharging_into(&captured).build();
    use_cases
        .recharge(&admin(), project(), MAX_RECHARGE, None)
        .await
        .unwrap();
    assert_eq!(captured.take().amount, MAX_RECHARGE);
}

#[tokio::test]
async fn non_admin_recharge_is_denied_even_for_a_member() {
    let error = recharge_refused(member(), money("10"), None).await;
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn recharge_of_zero_or_less_is_invalid_and_never_reaches_the_ledger() {
    for amount in ["0", "-0.0001", "-10"] {
        let error = recharge_refused(admin(), money(amount), None).await;
        assert!(
            matches!(error, Error::InvalidParameter(_)),
            "{amount}: {error:?}"
        );
    }
}

#[tokio::test]
async fn recharge_above_the_maximum_is_invalid_and_never_reaches_the_ledger() {
    let too_much = MAX_RECHARGE.checked_add(Money::from_minor(1)).unwrap();
    let error = recharge_refused(admin(), too_much, None).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn recharge_with_a_too_long_comment_is_invalid() {
    let comment = "x".repeat(MAX_COMMENT_CHARS + 1);
    let error = recharge_refused(admin(), money("10"), Some(comment)).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn balance_overflow_from_the_ledger_propagates() {
    let mut mocks = Mocks::new().at(utc(NOW));
    mocks
        .ledger
        .expect_recharge()
        .returning(|_| Err(Error::invalid("the balance would overflow")));
    let error = mocks
        .build()
        .recharge(&admin(), project(), money("10"), None)
        .await
        .unwrap_err();
    assert_eq!(error, Error::invalid("the balance would overflow"));
}

#[tokio::test]
async fn member_reads_the_projects_balance() {
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_balance()
        .withf(|asked| *asked == project())
        .times(1)
        .returning(|_| Ok(balance("99")));
    let read = mocks
        .build()
        .get_balance(&member(), &project())
        .await
        .unwrap();
    assert_eq!(read, balance("99"));
}

#[tokio::test]
async fn admin_reads_any_balance_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    mocks
        .ledger
        .expect_balance()
        .times(1)
        .returning(|_| Ok(balance("99")));
    let read = mocks
        .build()
        .get_balance(&admin(), &other_project())
        .await
        .unwrap();
    assert_eq!(read.amount, money("99"));
}

#[tokio::test]
async fn non_member_is_denied_the_balance_without_reading_it() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_balance().never();
    let error = mocks
        .build()
        .get_balance(&member(), &other_project())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn member_lists_recharges_with_the_page_passed_through() {
    let page = PageRequest::parse(Some("3"), Some("5")).unwrap();
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_list_recharges()
        .withf(move |asked, asked_page| *asked == project() && *asked_page == page)
        .times(1)
        .returning(|_, _| {
            Ok(Page {
                total: 0,
                items: vec![],
            })
        });
    let listed = mocks
        .build()
        .list_recharges(&member(), &project(), page)
        .await
        .unwrap();
    assert_eq!(
        listed,
        Page {
            total: 0,
            items: vec![]
        }
    );
}

#[tokio::test]
async fn non_member_is_denied_the_recharges_without_listing_them() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_list_recharges().never();
    let error = mocks
        .build()
        .list_recharges(&member(), &other_project(), PageRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}
