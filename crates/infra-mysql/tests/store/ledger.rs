//! The local ledger: recharges, balances, and the movements changes apply to them.

use domain::change::ChangeBuilder;
use domain::consumption::{Consumption, ConsumptionKind};
use domain::filter::TimeRange;
use domain::idempotency::{Idempotency, IdempotencyKey};
use domain::ledger::Recharge;
use domain::order::Order;
use domain::page::PageRequest;
use domain::payment::{LedgerMove, Payment};
use domain::ports::{ChangeStore, IdempotencyStore, LedgerRepository, RechargeFilter};
use domain::{Error, Money};
use infra_mysql::IdempotencyKeys;

use crate::common::{
    balance_of, both_backends, closing, commit, fund, money, open, order, page, project,
    recharge_of, t, OrderExt, TestDb,
};

// ---- recharges ----

both_backends!(a_project_never_funded_has_zero_and_no_update_time, |db| {
    let balance = db.ledger().balance(&project("p1")).await.unwrap();
    assert_eq!(balance.project, project("p1"));
    assert_eq!((balance.amount, balance.updated_at), (money(0), None));
});

both_backends!(recharge_records_it_and_credits_the_balance, |db| {
    let ledger = db.ledger();
    let first = recharge_of("p1", 1_000_000, "2026-01-01T00:00:00.000001Z");
    let (recorded, balance) = ledger.recharge(first.clone(), None).await.unwrap();
    assert_eq!(
        recorded,
        Recharge {
            id: recorded.id,
            project: first.project.clone(),
            amount: first.amount,
            comment: first.comment.clone(),
            operator: first.operator.clone(),
            time: first.time,
        }
    );
    assert_eq!(balance.amount, money(1_000_000));
    assert_eq!(balance.updated_at, Some(t("2026-01-01T00:00:00.000001Z")));

    let mut second = recharge_of("p1", 250, "2026-01-02T00:00:00Z");
    second.comment = None;
    let (again, balance) = ledger.recharge(second, None).await.unwrap();
    assert!(again.id > recorded.id);
    assert_eq!(again.comment, None);
    assert_eq!(balance.amount, money(1_000_250));
    assert_eq!(ledger.balance(&project("p1")).await.unwrap(), balance);
    assert_eq!(
        ledger
            .find_recharge(&project("p1"), again.id)
            .await
            .unwrap(),
        Some(again.clone())
    );
    assert_eq!(
        ledger
            .find_recharge(&project("p2"), again.id)
            .await
            .unwrap(),
        None,
        "another project's recharge is not found"
    );
});

fn idempotency(key: &str) -> Idempotency {
    Idempotency {
        project: project("p1"),
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: "sha256:recharge".into(),
    }
}

both_backends!(a_keyed_recharge_records_its_key_with_its_result, |db| {
    let (recharge, _) = db
        .ledger()
        .recharge(
            recharge_of("p1", 500, "2026-01-01T00:00:00Z"),
            Some(idempotency("r-1")),
        )
        .await
        .unwrap();
    let remembered = IdempotencyKeys::new(db.db.clone())
        .find(&project("p1"), &IdempotencyKey::parse("r-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(remembered.result, format!("recharge:{}", recharge.id));
    assert_eq!(remembered.fingerprint, "sha256:recharge");
    assert_eq!(remembered.at, t("2026-01-01T00:00:00Z"));
    assert_eq!(remembered.answer, None);
});

both_backends!(a_recharge_under_a_taken_key_writes_nothing, |db| {
    let ledger = db.ledger();
    ledger
        .recharge(
            recharge_of("p1", 500, "2026-01-01T00:00:00Z"),
            Some(idempotency("r-1")),
        )
        .await
        .unwrap();
    let before = db.snapshot();
    let error = ledger
        .recharge(
            recharge_of("p1", 500, "2026-01-01T00:00:01Z"),
            Some(idempotency("r-1")),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::DuplicateRequest(_)), "{error:?}");
    assert_eq!(db.snapshot(), before);
});

both_backends!(
    recharges_list_newest_first_per_project_and_page_cleanly,
    |db| {
        let ledger = db.ledger();
        for (n, amount) in [1, 2, 3].into_iter().enumerate() {
            let at = format!("2026-01-0{}T00:00:00Z", n + 1);
            ledger
                .recharge(recharge_of("p1", amount, &at), None)
                .await
                .unwrap();
        }
        ledger
            .recharge(recharge_of("p2", 99, "2026-01-09T00:00:00Z"), None)
            .await
            .unwrap();

        let amounts = |items: Vec<Recharge>| {
            items
                .into_iter()
                .map(|r| r.amount.minor())
                .collect::<Vec<_>>()
        };
        let first = ledger
            .list_recharges(&RechargeFilter::of(project("p1")), page(1, 2))
            .await
            .unwrap();
        assert_eq!((first.total, amounts(first.items)), (3, vec![3, 2]));
        let second = ledger
            .list_recharges(&RechargeFilter::of(project("p1")), page(2, 2))
            .await
            .unwrap();
        assert_eq!((second.total, amounts(second.items)), (3, vec![1]));
        let past = ledger
            .list_recharges(&RechargeFilter::of(project("p1")), page(3, 2))
            .await
            .unwrap();
        assert_eq!((past.total, past.items.len()), (3, 0));
        let none = ledger
            .list_recharges(&RechargeFilter::of(project("p3")), PageRequest::default())
            .await
            .unwrap();
        assert_eq!((none.total, none.items.len()), (0, 0));
    }
);

both_backends!(
    a_recharge_that_would_overflow_the_balance_is_invalid_and_writes_nothing,
    |db| {
        let ledger = db.ledger();
        ledger
            .recharge(
                recharge_of("p1", Money::MAX.minor() - 10, "2026-01-01T00:00:00Z"),
                None,
            )
            .await
            .unwrap();
        let before = db.snapshot();

        let error = ledger
            .recharge(recharge_of("p1", 11, "2026-01-02T00:00:00Z"), None)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
        assert_eq!(db.snapshot(), before);

        // Up to the limit exactly is fine.
        let (_, balance) = ledger
            .recharge(recharge_of("p1", 10, "2026-01-03T00:00:00Z"), None)
            .await
            .unwrap();
        assert_eq!(balance.amount, Money::MAX);
    }
);

both_backends!(a_recharge_pays_arrears_first, |db| {
    let o = order("o-1");
    open(&db, &o, 0).await;
    let (_, change) = moving(&o, 300, None);
    commit(&db, change).await.unwrap();
    assert_eq!(balance_of(&db, "p1").await, money(-300));
    let (_, balance) = db
        .ledger()
        .recharge(recharge_of("p1", 1_000, "2026-03-01T00:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(balance.amount, money(700));
});

both_backends!(open_account_funds_a_new_project_once_only, |db| {
    let ledger = db.ledger();
    assert!(ledger
        .open_account(recharge_of("p1", 5_000, "2026-01-01T00:00:00Z"))
        .await
        .unwrap());
    assert!(!ledger
        .open_account(recharge_of("p1", 5_000, "2026-01-02T00:00:00Z"))
        .await
        .unwrap());
    assert_eq!(balance_of(&db, "p1").await, money(5_000));
    let listed = ledger
        .list_recharges(&RechargeFilter::of(project("p1")), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
});

both_backends!(
    open_account_leaves_a_project_that_was_recharged_alone,
    |db| {
        let ledger = db.ledger();
        ledger
            .recharge(recharge_of("p1", 10, "2026-01-01T00:00:00Z"), None)
            .await
            .unwrap();
        assert!(!ledger
            .open_account(recharge_of("p1", 5_000, "2026-01-02T00:00:00Z"))
            .await
            .unwrap());
        assert_eq!(balance_of(&db, "p1").await, money(10));
    }
);

both_backends!(concurrent_open_accounts_fund_the_project_once, |db| {
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let ledger = db.ledger();
            tokio::spawn(async move {
                ledger
                    .open_account(recharge_of("p1", 5_000, "2026-01-01T00:00:00Z"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut opened = 0;
    for task in tasks {
        if task.await.unwrap() {
            opened += 1;
        }
    }
    assert_eq!(opened, 1);
    assert_eq!(balance_of(&db, "p1").await, money(5_000));
});

both_backends!(open_account_leaves_a_project_with_a_balance_alone, |db| {
    // A refund to a never-funded project creates its balance without any recharge.
    let o = order("o-1");
    open(&db, &o, 0).await;
    let (_, change) = closing(&o, 300, "2026-02-01T00:00:00Z");
    commit(&db, change).await.unwrap();
    let ledger = db.ledger();
    assert!(!ledger
        .open_account(recharge_of("p1", 5_000, "2026-02-02T00:00:00Z"))
        .await
        .unwrap());
    assert_eq!(balance_of(&db, "p1").await, money(300));
});

// ---- movements a change applies ----

/// When [`moving`] happens.
const AT: &str = "2026-02-10T00:00:00.5Z";

/// A change that writes a new row of `o` charging `amount` (a negative one refunds), its
/// payment, and the ledger's movement of it guarded by `requires`; and the order after.
fn moving(o: &Order, amount: i64, requires: Option<i64>) -> (Order, ChangeBuilder) {
    let mut after = o.clone();
    after.last_consume_id += 1;
    let seq = after.next_payment_id().unwrap().seq;
    let row = Consumption {
        order_id: o.id.clone(),
        consume_id: after.last_consume_id,
        project: o.project.clone(),
        region: o.region.clone(),
        plan_id: o.plan_id.clone(),
        amount: money(amount),
        time: t(AT),
        covered_until: t(AT),
        kind: if amount > 0 {
            ConsumptionKind::Renew
        } else {
            ConsumptionKind::End
        },
    };
    let payment = Payment::of_row(&after, seq, &row, false, t(AT)).unwrap();
    let mut change = ChangeBuilder::new();
    change.update(o, after).unwrap();
    change.row(row).payment(payment).ledger(LedgerMove {
        project: o.project.clone(),
        amount: money(amount),
        requires: requires.map(money),
    });
    let after = change.order(&o.id).unwrap().clone();
    (after, change)
}

/// An uncharged order `o-1` of `project_id`, written.
async fn opened(db: &TestDb, project_id: &str) -> Order {
    let o = order("o-1").in_project(project_id);
    open(db, &o, 0).await;
    o
}

both_backends!(a_guarded_move_takes_what_the_balance_covers_exactly, |db| {
    fund(&db, "p1", 1_000).await;
    let o = opened(&db, "p1").await;
    let (o, change) = moving(&o, 1_000, Some(1_000));
    commit(&db, change).await.unwrap();
    let balance = db.ledger().balance(&project("p1")).await.unwrap();
    assert_eq!(
        (balance.amount, balance.updated_at),
        (money(0), Some(t(AT)))
    );

    let before = db.snapshot();
    let (_, change) = moving(&o, 1, Some(1));
    assert_eq!(
        commit(&db, change).await,
        Err(Error::InsufficientBalance {
            needed: money(1),
            available: money(0)
        })
    );
    assert_eq!(db.snapshot(), before);
});

both_backends!(
    a_guarded_move_may_take_the_balance_down_to_its_floor,
    |db| {
        // Postpaid usage on a credit limit of 500: 700 taken requires 200 before it.
        fund(&db, "p1", 300).await;
        let o = opened(&db, "p1").await;
        let (o, change) = moving(&o, 700, Some(200));
        commit(&db, change).await.unwrap();
        assert_eq!(balance_of(&db, "p1").await, money(-400));

        let (_, change) = moving(&o, 100, Some(-300));
        assert_eq!(
            commit(&db, change).await,
            Err(Error::InsufficientBalance {
                needed: money(-300),
                available: money(-400)
            })
        );
    }
);

both_backends!(
    a_check_alone_refuses_a_short_balance_and_changes_nothing,
    |db| {
        fund(&db, "p1", 500).await;
        let before = db.snapshot();
        let check = |requires| {
            let mut change = ChangeBuilder::new();
            change.ledger(LedgerMove {
                project: project("p1"),
                amount: Money::ZERO,
                requires: Some(money(requires)),
            });
            change
        };
        assert_eq!(
            commit(&db, check(501)).await,
            Err(Error::InsufficientBalance {
                needed: money(501),
                available: money(500)
            })
        );
        commit(&db, check(500)).await.unwrap();
        assert_eq!(db.snapshot(), before, "a check moves nothing");
        assert_eq!(
            db.ledger()
                .balance(&project("p1"))
                .await
                .unwrap()
                .updated_at,
            Some(t("2026-01-01T00:00:00Z")),
            "nor dates the balance"
        );
    }
);

both_backends!(
    a_check_of_a_project_never_funded_reads_zero_and_creates_nothing,
    |db| {
        let check = |requires| {
            let mut change = ChangeBuilder::new();
            change.ledger(LedgerMove {
                project: project("p9"),
                amount: Money::ZERO,
                requires: Some(money(requires)),
            });
            change
        };
        commit(&db, check(-500)).await.unwrap();
        commit(&db, check(0)).await.unwrap();
        assert_eq!(
            commit(&db, check(1)).await,
            Err(Error::InsufficientBalance {
                needed: money(1),
                available: money(0)
            })
        );
        assert_eq!(db.count("DF_BALANCE"), 0);
    }
);

both_backends!(an_unguarded_charge_takes_the_balance_into_arrears, |db| {
    fund(&db, "p1", 100).await;
    let o = opened(&db, "p1").await;
    let (_, change) = moving(&o, 300, None);
    commit(&db, change).await.unwrap();
    assert_eq!(balance_of(&db, "p1").await, money(-200));
});

both_backends!(
    an_unguarded_charge_creates_the_balance_of_a_project_without_one,
    |db| {
        let o = opened(&db, "p1").await;
        let (_, change) = moving(&o, 300, None);
        commit(&db, change).await.unwrap();
        let balance = db.ledger().balance(&project("p1")).await.unwrap();
        assert_eq!(
            (balance.amount, balance.updated_at),
            (money(-300), Some(t(AT)))
        );
    }
);

both_backends!(a_guarded_move_allowed_from_zero_creates_the_balance, |db| {
    let o = opened(&db, "p1").await;
    let (_, change) = moving(&o, 300, Some(-200));
    commit(&db, change).await.unwrap();
    assert_eq!(balance_of(&db, "p1").await, money(-300));
});

both_backends!(
    a_refund_creates_the_balance_of_a_project_without_one,
    |db| {
        let o = opened(&db, "p1").await;
        let (_, change) = moving(&o, -700, None);
        commit(&db, change).await.unwrap();
        assert_eq!(balance_of(&db, "p1").await, money(700));
    }
);

both_backends!(
    a_move_out_of_the_columns_range_is_internal_and_writes_nothing,
    |db| {
        db.ledger()
            .recharge(
                recharge_of("p1", Money::MAX.minor() - 10, "2026-01-01T00:00:00Z"),
                None,
            )
            .await
            .unwrap();
        let o = opened(&db, "p1").await;
        let before = db.snapshot();
        let (_, change) = moving(&o, -11, None);
        let error = commit(&db, change).await.unwrap_err();
        assert!(matches!(error, Error::Internal(_)), "{error:?}");
        assert_eq!(db.snapshot(), before);

        // The other end: arrears that would pass the least BIGINT.
        let debtor = order("o-2").in_project("p2");
        open(&db, &debtor, 0).await;
        let (debtor, change) = moving(&debtor, Money::MAX.minor(), None);
        commit(&db, change).await.unwrap();
        assert_eq!(balance_of(&db, "p2").await, money(-Money::MAX.minor()));
        let before = db.snapshot();
        let (_, change) = moving(&debtor, 2, None);
        let error = commit(&db, change).await.unwrap_err();
        assert!(matches!(error, Error::Internal(_)), "{error:?}");
        assert_eq!(db.snapshot(), before);
    }
);

/// One change charging `amounts` to orders of projects `p0`, `p1`, …, each guarded by its
/// amount (a renewal batch's shape).
async fn batch_of_charges(db: &TestDb, amounts: &[i64]) -> ChangeBuilder {
    let mut change = ChangeBuilder::new();
    for (n, amount) in amounts.iter().enumerate() {
        let project_id = format!("p{n}");
        let o = order(&format!("o-{n}")).in_project(&project_id);
        open(db, &o, 0).await;
        let (_, single) = moving(&o, *amount, Some(*amount));
        let single = single.seal().unwrap();
        if let domain::change::OrderWrite::Update { order, .. } = &single.orders()[0] {
            change.update(&o, order.clone()).unwrap();
        }
        for row in single.rows() {
            change.row(row.clone());
        }
        for payment in single.payments() {
            change.payment(payment.clone());
        }
        for movement in single.ledger() {
            change.ledger(movement.clone());
        }
    }
    change
}

both_backends!(the_moves_of_many_projects_are_applied_together, |db| {
    for n in 0..4 {
        fund(&db, &format!("p{n}"), 1_000).await;
    }
    let change = batch_of_charges(&db, &[100, 200, 300, 1_000]).await;
    commit(&db, change).await.unwrap();
    let left: Vec<i64> = [
        balance_of(&db, "p0").await,
        balance_of(&db, "p1").await,
        balance_of(&db, "p2").await,
        balance_of(&db, "p3").await,
    ]
    .iter()
    .map(|m| m.minor())
    .collect();
    assert_eq!(left, [900, 800, 700, 0]);
});

both_backends!(
    one_project_short_among_many_names_it_and_writes_nothing,
    |db| {
        for n in 0..4 {
            fund(&db, &format!("p{n}"), 1_000).await;
        }
        let change = batch_of_charges(&db, &[100, 200, 1_001, 300]).await;
        let before = db.snapshot();
        assert_eq!(
            commit(&db, change).await,
            Err(Error::InsufficientBalance {
                needed: money(1_001),
                available: money(1_000)
            })
        );
        assert_eq!(db.snapshot(), before);
    }
);

both_backends!(
    concurrent_guarded_charges_on_a_balance_for_three_let_exactly_three_through,
    |db| {
        fund(&db, "p1", 3 * 10_000).await;
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let writer = crate::common::writer(&db);
                let o = order(&format!("o-{n}"));
                tokio::spawn(async move {
                    writer
                        .commit(crate::common::opening(&o, 10_000).seal().unwrap())
                        .await
                })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => succeeded += 1,
                Err(Error::InsufficientBalance { needed, available }) => {
                    assert_eq!(needed, money(10_000));
                    assert!(
                        available < needed && !available.is_negative(),
                        "{available}"
                    );
                }
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(succeeded, 3);
        assert_eq!(balance_of(&db, "p1").await, money(0));
        assert_eq!(db.count("DF_PURCHASE_ORDER"), 3);
        assert_eq!(db.count("DF_CONSUMING_HISTORY"), 3);
        assert_eq!(db.count("DF_PAYMENT"), 3);
    }
);

both_backends!(
    recharges_are_listed_within_a_time_range_start_included_end_excluded,
    |db| {
        let ledger = db.ledger();
        for day in 1..=6 {
            let at = format!("2026-03-0{day}T00:00:00Z");
            ledger
                .recharge(recharge_of("p1", day, &at), None)
                .await
                .unwrap();
        }
        ledger
            .recharge(recharge_of("p2", 99, "2026-03-03T00:00:00Z"), None)
            .await
            .unwrap();
        let within = |start: &str, end: &str| RechargeFilter {
            created: TimeRange {
                start: Some(t(start)),
                end: Some(t(end)),
            },
            ..RechargeFilter::of(project("p1"))
        };
        let amounts =
            |items: &[Recharge]| items.iter().map(|r| r.amount.minor()).collect::<Vec<_>>();

        let week = within("2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z");
        let all = ledger
            .list_recharges(&week, PageRequest::default())
            .await
            .unwrap();
        assert_eq!((all.total, all.exact), (4, true));
        assert_eq!(
            amounts(&all.items),
            [5, 4, 3, 2],
            "newest first, the 6th excluded"
        );

        // A full page counts the rest; a page past the end too.
        let two = PageRequest::window(Some("0"), Some("2")).unwrap();
        let first = ledger.list_recharges(&week, two).await.unwrap();
        assert_eq!((first.total, amounts(&first.items)), (4, vec![5, 4]));
        let past = PageRequest::window(Some("10"), Some("2")).unwrap();
        let empty = ledger.list_recharges(&week, past).await.unwrap();
        assert_eq!((empty.total, empty.items.len()), (4, 0));

        let nothing = within("2026-03-06T00:00:00.000001Z", "2026-03-07T00:00:00Z");
        let none = ledger
            .list_recharges(&nothing, PageRequest::default())
            .await
            .unwrap();
        assert_eq!((none.total, none.items.len()), (0, 0));
    }
);
