use domain::ledger::Recharge;
use domain::page::PageRequest;
use domain::ports::LedgerRepository;
use domain::{Error, Money};

use domain::ports::OrderRepository;
use infra_mysql::OrderStore;

use crate::common::{both_backends, closing, money, opening, order, page, project, recharge_of, t};

both_backends!(a_project_never_funded_has_zero_and_no_update_time, |db| {
    let balance = db.ledger().balance(&project("p1")).await.unwrap();
    assert_eq!(balance.project, project("p1"));
    assert_eq!((balance.amount, balance.updated_at), (money(0), None));
});

both_backends!(recharge_records_it_and_credits_the_balance, |db| {
    let ledger = db.ledger();
    let first = recharge_of("p1", 1_000_000, "2026-01-01T00:00:00.000001Z");
    let (recorded, balance) = ledger.recharge(first.clone()).await.unwrap();
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
    let (again, balance) = ledger.recharge(second).await.unwrap();
    assert!(again.id > recorded.id);
    assert_eq!(again.comment, None);
    assert_eq!(balance.amount, money(1_000_250));
    assert_eq!(ledger.balance(&project("p1")).await.unwrap(), balance);
});

both_backends!(
    recharges_list_newest_first_per_project_and_page_cleanly,
    |db| {
        let ledger = db.ledger();
        for (n, amount) in [1, 2, 3].into_iter().enumerate() {
            let at = format!("2026-01-0{}T00:00:00Z", n + 1);
            ledger
                .recharge(recharge_of("p1", amount, &at))
                .await
                .unwrap();
        }
        ledger
            .recharge(recharge_of("p2", 99, "2026-01-09T00:00:00Z"))
            .await
            .unwrap();

        let amounts = |items: Vec<Recharge>| {
            items
                .into_iter()
                .map(|r| r.amount.minor())
                .collect::<Vec<_>>()
        };
        let first = ledger
            .list_recharges(&project("p1"), page(1, 2))
            .await
            .unwrap();
        assert_eq!((first.total, amounts(first.items)), (3, vec![3, 2]));
        let second = ledger
            .list_recharges(&project("p1"), page(2, 2))
            .await
            .unwrap();
        assert_eq!((second.total, amounts(second.items)), (3, vec![1]));
        let past = ledger
            .list_recharges(&project("p1"), page(3, 2))
            .await
            .unwrap();
        assert_eq!((past.total, past.items.len()), (3, 0));
        let none = ledger
            .list_recharges(&project("p3"), PageRequest::default())
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
            .recharge(recharge_of(
                "p1",
                Money::MAX.minor() - 10,
                "2026-01-01T00:00:00Z",
            ))
            .await
            .unwrap();
        let before = ledger.balance(&project("p1")).await.unwrap();

        let error = ledger
            .recharge(recharge_of("p1", 11, "2026-01-02T00:00:00Z"))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
        assert_eq!(ledger.balance(&project("p1")).await.unwrap(), before);
        let listed = ledger
            .list_recharges(&project("p1"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(listed.total, 1);

        // Up to the limit exactly is fine.
        let (_, balance) = ledger
            .recharge(recharge_of("p1", 10, "2026-01-03T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(balance.amount, Money::MAX);
    }
);

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
    assert_eq!(
        ledger.balance(&project("p1")).await.unwrap().amount,
        money(5_000)
    );
    let listed = ledger
        .list_recharges(&project("p1"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
});

both_backends!(
    open_account_leaves_a_project_that_was_recharged_alone,
    |db| {
        let ledger = db.ledger();
        ledger
            .recharge(recharge_of("p1", 10, "2026-01-01T00:00:00Z"))
            .await
            .unwrap();
        assert!(!ledger
            .open_account(recharge_of("p1", 5_000, "2026-01-02T00:00:00Z"))
            .await
            .unwrap());
        assert_eq!(
            ledger.balance(&project("p1")).await.unwrap().amount,
            money(10)
        );
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
    assert_eq!(
        db.ledger().balance(&project("p1")).await.unwrap().amount,
        money(5_000)
    );
});

both_backends!(open_account_leaves_a_project_with_a_balance_alone, |db| {
    // A refund to a never-funded project creates its balance without any recharge.
    let orders = OrderStore::new(db.db.clone());
    let o = order("o-1");
    orders.open(opening(&o, 0)).await.unwrap();
    orders
        .close(closing(&o, 300, "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    let ledger = db.ledger();
    assert!(!ledger
        .open_account(recharge_of("p1", 5_000, "2026-02-02T00:00:00Z"))
        .await
        .unwrap());
    assert_eq!(
        ledger.balance(&project("p1")).await.unwrap().amount,
        money(300)
    );
});
