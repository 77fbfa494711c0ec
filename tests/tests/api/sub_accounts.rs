//! Main accounts and sub-accounts through the real binary, on SQLite and MariaDB, with the
//! demo family of `config/demo.toml`: `demo` is the main account of `demo-dev` and
//! `demo-test`. Members of a project, members of its main account and admins read it;
//! no answer holds a row of a project the caller may not see; writes never pass through
//! the relation; `account_type` merges a main account's lists with its sub-accounts',
//! newest first, in pages that neither overlap nor skip.

use std::collections::BTreeSet;
use std::process::Command;

use blackbox_tests::calendar::days_ago;
use blackbox_tests::catalog;
use blackbox_tests::db::Db;
use blackbox_tests::seed::{insert_orders, Keeper, NewOrder};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    command, spawn_app, spawn_app_mysql, MysqlDatabase, SqliteDir, TestApp, ADMIN, ALICE, CPU,
    DEMO, DEV, POSTPAID, TESTER, VOLUME,
};
use crate::renewal_runs::migrate;

/// The whole family, main account first.
const FAMILY: [&str; 3] = ["demo", "demo-dev", "demo-test"];
/// The main account's sub-accounts.
const SUBS: [&str; 2] = ["demo-dev", "demo-test"];

/// Whose orders are created, one after the other: interleaved, so that a merge that
/// concatenated the projects' lists instead of merging them would be out of order.
const CREATION_ORDER: [&str; 8] = [
    "demo",
    "demo-dev",
    "demo-test",
    "demo-dev",
    "demo",
    "demo-test",
    "demo-dev",
    "demo",
];

/// The token of the member of `project`.
fn member(project: &str) -> &'static str {
    match project {
        "demo" => DEMO,
        "demo-dev" => DEV,
        "demo-test" => TESTER,
        other => panic!("no member of {other} in config/demo.toml"),
    }
}

/// Whether `token` may read `project`: its members, the members of its main account, and
/// admins. The oracle of the authorization matrix, spelled out from config/demo.toml.
fn may_read(token: &str, project: &str) -> bool {
    match token {
        ADMIN => true,
        DEMO => FAMILY.contains(&project),
        DEV => project == "demo-dev",
        TESTER => project == "demo-test",
        _ => false,
    }
}

/// The projects whose rows a list of `project` holds for `account_type`.
fn scope(project: &'static str, account_type: Option<&str>) -> Vec<&'static str> {
    match (project, account_type) {
        ("demo", None | Some("admin")) => vec!["demo"],
        ("demo", Some("sub")) => SUBS.to_vec(),
        ("demo", Some("all")) => FAMILY.to_vec(),
        // A sub-account's main account is not its to see.
        (_, Some("admin")) => Vec::new(),
        (sub, _) => vec![sub],
    }
}

/// The label a row of `project` carries: `demo` is a main account, the others are its
/// sub-accounts, whoever named them.
fn account_type_of(project: &str) -> &'static str {
    if project == "demo" {
        "admin"
    } else {
        "sub"
    }
}

/// The orders of the family, in the order they were created.
struct Family {
    created: Vec<(&'static str, String)>,
}

impl Family {
    /// The ids of the orders of `projects`, newest first (each was created after the one
    /// before, so this is the reverse of creation).
    fn newest_first(&self, projects: &[&str]) -> Vec<String> {
        self.created
            .iter()
            .rev()
            .filter(|(project, _)| projects.contains(project))
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The first order created in `project`.
    fn first_of(&self, project: &str) -> &str {
        self.created
            .iter()
            .find(|(owner, _)| *owner == project)
            .map(|(_, id)| id.as_str())
            .expect("every project of the family has an order")
    }
}

/// Funds the two sub-accounts (`demo` has an opening balance) and has each project's
/// member create a volume order in [`CREATION_ORDER`]. Volumes, not quotas: a project
/// holds one quota order per region.
async fn seed_family(app: &TestApp) -> Family {
    for sub in SUBS {
        app.recharge(sub, "100.00").await.expect(200, 0);
    }
    let mut created = Vec::new();
    for (n, project) in CREATION_ORDER.into_iter().enumerate() {
        let order = app
            .post(
                "/orders",
                member(project),
                json!({"project": project, "planId": VOLUME,
                       "parameters": {"resourceName": format!("vol-{n}")}}),
            )
            .await;
        order.expect(201, 0);
        let id = order.data()["orderId"].as_str().unwrap().to_owned();
        created.push((project, id));
    }
    Family { created }
}

/// `data` of a 200 answer to `token`.
async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let reply = app.get(path, token).await;
    reply.expect(200, 0);
    reply.data().clone()
}

fn results(list: &Value) -> &Vec<Value> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
}

/// The `field` of every row of a list, in order.
fn column(list: &Value, field: &str) -> Vec<String> {
    results(list)
        .iter()
        .map(|row| {
            row[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} in {row}"))
                .to_owned()
        })
        .collect()
}

/// Panics unless every row's `field` (an RFC 3339 UTC time with microseconds, so it
/// sorts as text) is at or before the previous row's.
#[track_caller]
fn assert_newest_first(list: &Value, field: &str) {
    let times = column(list, field);
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "{field} not newest first: {times:?}"
    );
}

/// Panics unless every row is labelled from the side of `named`, the project the request
/// named: `isSelf` for its own rows, and what the row's project is in the family.
#[track_caller]
fn assert_labelled(list: &Value, named: &str) {
    for row in results(list) {
        let owner = row["project"].as_str().unwrap();
        assert_eq!(
            (&row["accountType"], &row["isSelf"]),
            (&json!(account_type_of(owner)), &json!(owner == named)),
            "a row of {owner} listed for {named}: {row}"
        );
    }
}

/// One read of the authorization matrix.
struct Read {
    path: String,
    /// The projects its rows must come from, all of which have rows.
    scope: Vec<&'static str>,
    /// Whether `data` is a list (`results`) rather than one row.
    list: bool,
    /// Whether its rows carry `accountType` and `isSelf`.
    labelled: bool,
}

/// Every read of `project` this feature opens to the main account's members: the three
/// lists with each `account_type`, one order, one record, the balance and the recharges.
fn reads(project: &'static str, order: &str) -> Vec<Read> {
    let mut reads = Vec::new();
    for account_type in [None, Some("admin"), Some("sub"), Some("all")] {
        let filter = account_type.map_or(String::new(), |t| format!("&account_type={t}"));
        for list in ["/orders", "/records", "/usages"] {
            reads.push(Read {
                path: format!("{list}?project={project}{filter}"),
                scope: scope(project, account_type),
                list: true,
                labelled: true,
            });
        }
    }
    let own = vec![project];
    reads.extend([
        Read {
            path: format!("/orders/{order}?project={project}"),
            scope: own.clone(),
            list: false,
            labelled: false,
        },
        Read {
            path: format!("/records/{order}?project={project}"),
            scope: own.clone(),
            list: false,
            labelled: true,
        },
        Read {
            path: format!("/balances/{project}"),
            scope: own.clone(),
            list: false,
            labelled: false,
        },
        Read {
            path: format!("/balances/{project}/recharges"),
            scope: own,
            list: true,
            labelled: false,
        },
    ]);
    reads
}

async fn reads_follow_membership_and_show_only_readable_rows(app: &TestApp) {
    let family = seed_family(app).await;
    let callers = [
        Some(DEMO),
        Some(DEV),
        Some(TESTER),
        Some(ALICE),
        Some(ADMIN),
        None,
    ];
    for project in ["demo", "demo-dev"] {
        for read in reads(project, family.first_of(project)) {
            for token in callers {
                let reply = app.send(app.request(Method::GET, &read.path, token)).await;
                let path = &read.path;
                let Some(token) = token else {
                    assert_eq!(
                        (reply.status.as_u16(), reply.code()),
                        (401, 3305),
                        "no token, GET {path}: {reply:?}"
                    );
                    continue;
                };
                if !may_read(token, project) {
                    assert_eq!(
                        (reply.status.as_u16(), reply.code()),
                        (403, 3306),
                        "{token} GET {path}: {reply:?}"
                    );
                    continue;
                }
                assert_eq!(
                    (reply.status.as_u16(), reply.code()),
                    (200, 0),
                    "{token} GET {path}: {reply:?}"
                );
                let rows = if read.list {
                    results(reply.data()).clone()
                } else {
                    vec![reply.data().clone()]
                };
                let seen: BTreeSet<&str> = rows
                    .iter()
                    .map(|row| {
                        row["project"]
                            .as_str()
                            .unwrap_or_else(|| panic!("{path}: a row without project: {row}"))
                    })
                    .collect();
                for owner in &seen {
                    assert!(
                        may_read(token, owner),
                        "{token} GET {path} was shown a row of {owner}: {rows:?}"
                    );
                }
                assert_eq!(
                    seen,
                    read.scope.iter().copied().collect(),
                    "{token} GET {path}"
                );
                if read.labelled {
                    let labelled = if read.list {
                        reply.data().clone()
                    } else {
                        json!({"results": rows})
                    };
                    assert_labelled(&labelled, project);
                }
            }
        }
    }

    // An order is found only in its own project: naming a project one may read does not
    // open another project's order, up the relation or across it.
    let demos = family.first_of("demo");
    let devs = family.first_of("demo-dev");
    for (token, path) in [
        (DEMO, format!("/orders/{demos}?project=demo-dev")),
        (DEV, format!("/orders/{demos}?project=demo-dev")),
        (DEV, format!("/records/{demos}?project=demo-dev")),
        (TESTER, format!("/orders/{devs}?project=demo-test")),
        (TESTER, format!("/records/{devs}?project=demo-test")),
    ] {
        let reply = app.get(&path, token).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, 3318),
            "{token} GET {path}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_family_project_is_read_by_its_members_its_main_accounts_and_admins_only() {
    let app = spawn_app().await;
    reads_follow_membership_and_show_only_readable_rows(&app).await;
}

#[tokio::test]
async fn mysql_a_family_project_is_read_by_its_members_its_main_accounts_and_admins_only() {
    let Some(app) = spawn_app_mysql(
        "sub_accounts::mysql_a_family_project_is_read_by_its_members_its_main_accounts_and_admins_only",
    )
    .await
    else {
        return;
    };
    reads_follow_membership_and_show_only_readable_rows(&app).await;
}

async fn writes_never_pass_through_the_relation(app: &TestApp) {
    app.recharge("demo-dev", "200.00").await.expect(200, 0);
    let order = app.create_order(DEV, "demo-dev", CPU).await;
    order.expect(201, 0);
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let volume = |project: &str| json!({"project": project, "planId": VOLUME, "parameters": {"resourceName": "data"}});
    let cancel = json!({"action": "cancel", "project": "demo-dev"});
    let before = (app.snapshot("demo").await, app.snapshot("demo-dev").await);

    for (token, method, path, body) in [
        // The main account's member, into its sub-account.
        (DEMO, Method::POST, "/orders".to_owned(), volume("demo-dev")),
        (DEMO, Method::PUT, format!("/orders/{id}"), cancel.clone()),
        (
            DEMO,
            Method::PUT,
            format!("/orders/{id}"),
            json!({"action": "renew", "project": "demo-dev"}),
        ),
        (
            DEMO,
            Method::POST,
            "/balances/demo-dev/recharges".to_owned(),
            json!({"amount": "5.00"}),
        ),
        // A sub-account's member, into its main account or its sibling.
        (DEV, Method::POST, "/orders".to_owned(), volume("demo")),
        (
            TESTER,
            Method::POST,
            "/orders".to_owned(),
            volume("demo-dev"),
        ),
        (TESTER, Method::PUT, format!("/orders/{id}"), cancel.clone()),
    ] {
        let reply = app
            .send(app.request(method.clone(), &path, Some(token)).json(&body))
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, 3306),
            "{token} {method} {path} {body}: {reply:?}"
        );
    }
    // A switch in one's own project cannot take over a sub-account's order.
    app.post(
        "/orders",
        DEMO,
        json!({"project": "demo", "planId": POSTPAID, "replaces": id}),
    )
    .await
    .expect(404, 3318);

    assert_eq!(app.order("demo-dev", &id).await["status"], "consuming");
    assert_eq!(
        (app.snapshot("demo").await, app.snapshot("demo-dev").await),
        before
    );
    // The refused requests were refused for who sent them: from the project's own member
    // the same requests go through.
    app.post("/orders", DEV, volume("demo-dev"))
        .await
        .expect(201, 0);
    let cancelled = app.put(&format!("/orders/{id}"), DEV, cancel).await;
    cancelled.expect(200, 0);
    assert_eq!(cancelled.data()["status"], "ended");
}

#[tokio::test]
async fn a_main_accounts_member_cannot_write_to_its_sub_accounts_nor_they_to_it() {
    let app = spawn_app().await;
    writes_never_pass_through_the_relation(&app).await;
}

#[tokio::test]
async fn mysql_a_main_accounts_member_cannot_write_to_its_sub_accounts_nor_they_to_it() {
    let Some(app) = spawn_app_mysql(
        "sub_accounts::mysql_a_main_accounts_member_cannot_write_to_its_sub_accounts_nor_they_to_it",
    )
    .await
    else {
        return;
    };
    writes_never_pass_through_the_relation(&app).await;
}

async fn order_lists_merge_the_family(app: &TestApp) {
    let family = seed_family(app).await;
    let orders = |query: String, token: &'static str| async move {
        read(app, &format!("/orders?{query}"), token).await
    };

    let all = orders("project=demo&account_type=all&size=100".into(), DEMO).await;
    let every = family.newest_first(&FAMILY);
    assert_eq!(column(&all, "orderId"), every);
    assert_eq!(
        (&all["total"], &all["totalExact"]),
        (&json!(8), &json!(true))
    );
    assert_newest_first(&all, "createTime");
    assert_labelled(&all, "demo");

    let subs = orders("project=demo&account_type=sub&size=100".into(), DEMO).await;
    assert_eq!(column(&subs, "orderId"), family.newest_first(&SUBS));
    assert_eq!(subs["total"], 5);
    assert_labelled(&subs, "demo");
    for own in ["", "&account_type=admin"] {
        let list = orders(format!("project=demo{own}"), DEMO).await;
        assert_eq!(column(&list, "orderId"), family.newest_first(&["demo"]));
        assert_eq!(list["total"], 3, "{own}");
        assert_labelled(&list, "demo");
    }

    // Every window is its slice of the whole list: no overlap, no gap.
    for limit in 1..=3 {
        for offset in 0..=every.len() + 1 {
            let window = orders(
                format!("project=demo&account_type=all&offset={offset}&limit={limit}"),
                DEMO,
            )
            .await;
            let end = (offset + limit).min(every.len());
            let slice = every.get(offset..end).unwrap_or_default();
            assert_eq!(
                column(&window, "orderId"),
                slice,
                "offset {offset} limit {limit}"
            );
            assert_eq!(window["total"], 8);
        }
        let mut paged = Vec::new();
        for page in 1..=every.len().div_ceil(limit) + 1 {
            let list = orders(
                format!("project=demo&account_type=all&page={page}&size={limit}"),
                DEMO,
            )
            .await;
            let ids = column(&list, "orderId");
            let start = ((page - 1) * limit).min(every.len());
            let end = (start + limit).min(every.len());
            assert_eq!(ids, every[start..end], "page {page} size {limit}");
            paged.extend(ids);
        }
        assert_eq!(paged, every, "pages of {limit}");
    }

    // A sub-account's list is its own whatever it asks, and never its main account's.
    let none = orders("project=demo-dev&account_type=admin".into(), DEV).await;
    assert_eq!((&none["total"], results(&none).len()), (&json!(0), 0));
    let devs = family.newest_first(&["demo-dev"]);
    for (token, account_type) in [
        (DEV, ""),
        (DEV, "&account_type=sub"),
        (DEV, "&account_type=all"),
        // Named through the main account's member, the rows are still the sub-account's own.
        (DEMO, "&account_type=all"),
    ] {
        let list = orders(format!("project=demo-dev{account_type}"), token).await;
        assert_eq!(column(&list, "orderId"), devs, "{token} {account_type}");
        assert_eq!(list["total"], 3);
        assert_labelled(&list, "demo-dev");
    }
}

#[tokio::test]
async fn a_main_accounts_order_list_merges_its_sub_accounts_newest_first() {
    let app = spawn_app().await;
    order_lists_merge_the_family(&app).await;
}

#[tokio::test]
async fn mysql_a_main_accounts_order_list_merges_its_sub_accounts_newest_first() {
    let Some(app) = spawn_app_mysql(
        "sub_accounts::mysql_a_main_accounts_order_list_merges_its_sub_accounts_newest_first",
    )
    .await
    else {
        return;
    };
    order_lists_merge_the_family(&app).await;
}

async fn records_and_usages_merge_the_family(app: &TestApp) {
    let family = seed_family(app).await;
    let every = family.newest_first(&FAMILY);

    let records = read(app, "/records?project=demo&account_type=all&size=100", DEMO).await;
    assert_eq!(column(&records, "orderId"), every);
    assert_eq!(records["total"], 8);
    assert_newest_first(&records, "createTime");
    assert_labelled(&records, "demo");
    for record in results(&records) {
        let details = record["priceDetails"].as_array().unwrap();
        assert_eq!(details.len(), 1, "{record}");
        assert_eq!(details[0]["orderNumber"], record["orderId"]);
        assert_eq!(
            (&details[0]["kind"], &details[0]["consumePrice"]),
            (&json!("new"), &json!("12.50"))
        );
        assert_eq!(
            (&details[0]["accountType"], &details[0]["isSelf"]),
            (&record["accountType"], &record["isSelf"]),
            "{record}"
        );
    }
    let mut paged = Vec::new();
    for offset in (0..=every.len()).step_by(3) {
        let window = read(
            app,
            &format!("/records?project=demo&account_type=all&offset={offset}&limit=3"),
            DEMO,
        )
        .await;
        paged.extend(column(&window, "orderId"));
    }
    assert_eq!(paged, every);
    let subs = read(app, "/records?project=demo&account_type=sub", DEMO).await;
    assert_eq!(column(&subs, "orderId"), family.newest_first(&SUBS));

    // One row per order: its first cycle.
    let usages = read(app, "/usages?project=demo&account_type=all&size=100", DEMO).await;
    assert_eq!(column(&usages, "orderId"), every);
    assert_eq!(usages["total"], 8);
    assert_newest_first(&usages, "time");
    assert_labelled(&usages, "demo");
    let mut paged = Vec::new();
    for page in 1..=4 {
        let list = read(
            app,
            &format!("/usages?project=demo&account_type=all&page={page}&size=3"),
            DEMO,
        )
        .await;
        paged.extend(column(&list, "orderId"));
    }
    assert_eq!(paged, every);
    let subs = read(app, "/usages?project=demo&account_type=sub", DEMO).await;
    assert_eq!(column(&subs, "orderId"), family.newest_first(&SUBS));
    assert_eq!(subs["total"], 5);

    let devs = family.newest_first(&["demo-dev"]);
    for list in ["/records", "/usages"] {
        let none = read(
            app,
            &format!("{list}?project=demo-dev&account_type=admin"),
            DEV,
        )
        .await;
        assert_eq!(
            (&none["total"], results(&none).len()),
            (&json!(0), 0),
            "{list}"
        );
        let own = read(
            app,
            &format!("{list}?project=demo-dev&account_type=all"),
            DEV,
        )
        .await;
        assert_eq!(column(&own, "orderId"), devs, "{list}");
        assert_labelled(&own, "demo-dev");
    }
}

#[tokio::test]
async fn a_main_accounts_records_and_usages_merge_its_sub_accounts_like_its_orders() {
    let app = spawn_app().await;
    records_and_usages_merge_the_family(&app).await;
}

#[tokio::test]
async fn mysql_a_main_accounts_records_and_usages_merge_its_sub_accounts_like_its_orders() {
    let Some(app) = spawn_app_mysql(
        "sub_accounts::mysql_a_main_accounts_records_and_usages_merge_its_sub_accounts_like_its_orders",
    )
    .await
    else {
        return;
    };
    records_and_usages_merge_the_family(&app).await;
}

#[tokio::test]
async fn an_unknown_account_type_is_400_3307_naming_the_three() {
    let app = spawn_app().await;
    for list in ["/orders", "/records", "/usages"] {
        for value in ["main", "", "Admin", "self", "sub%20"] {
            let reply = app
                .get(&format!("{list}?project=demo&account_type={value}"), DEMO)
                .await;
            reply.expect(400, 3307);
            assert!(
                reply
                    .msg()
                    .contains("account_type must be one of admin, sub, all"),
                "{list} {value:?}: {}",
                reply.msg()
            );
        }
    }
}

async fn only_a_list_over_several_projects_is_bounded(app: &TestApp) {
    let family = seed_family(app).await;
    let total = family.created.len();
    let too_deep = |path: String| async move {
        let reply = app.get(&path, DEMO).await;
        reply.expect(400, 3307);
        assert!(reply.msg().contains("10000"), "{path}: {}", reply.msg());
    };
    let empty_page = |path: String, token: &'static str, total: usize| async move {
        let list = read(app, &path, token).await;
        assert_eq!(
            (&list["total"], results(&list).len()),
            (&json!(total), 0),
            "{path}"
        );
    };

    // offset + limit up to 10,000 across the family; the last row it may reach is the
    // 10,000th.
    for list in ["/orders", "/records"] {
        too_deep(format!(
            "{list}?project=demo&account_type=all&offset=9999&limit=2"
        ))
        .await;
        empty_page(
            format!("{list}?project=demo&account_type=all&offset=9999&limit=1"),
            DEMO,
            total,
        )
        .await;
    }
    too_deep("/orders?project=demo&account_type=sub&page=334&size=30".into()).await;
    empty_page(
        "/orders?project=demo&account_type=sub&page=333&size=30".into(),
        DEMO,
        5,
    )
    .await;
    too_deep("/usages?project=demo&account_type=all&page=10001&size=1".into()).await;
    empty_page(
        "/usages?project=demo&account_type=all&page=10000&size=1".into(),
        DEMO,
        total,
    )
    .await;

    // One project's list, however it is asked for, has no such bound.
    for (path, token, total) in [
        ("/orders?project=demo&offset=9999&limit=2", DEMO, 3),
        (
            "/orders?project=demo&account_type=admin&offset=20000&limit=1000",
            DEMO,
            3,
        ),
        ("/records?project=demo&offset=9999&limit=2", DEMO, 3),
        ("/usages?project=demo&page=10001&size=1", DEMO, 3),
        (
            "/orders?project=demo-dev&account_type=all&offset=9999&limit=2",
            DEV,
            3,
        ),
        (
            "/orders?project=demo-dev&account_type=admin&offset=9999&limit=2",
            DEV,
            0,
        ),
    ] {
        empty_page(path.into(), token, total).await;
    }

    // Who may not read the list hears that, not how deep it may be read.
    app.get(
        "/orders?project=demo&account_type=all&offset=9999&limit=2",
        ALICE,
    )
    .await
    .expect(403, 3306);
}

#[tokio::test]
async fn only_a_list_over_several_projects_refuses_rows_past_the_10000th() {
    let app = spawn_app().await;
    only_a_list_over_several_projects_is_bounded(&app).await;
}

#[tokio::test]
async fn mysql_only_a_list_over_several_projects_refuses_rows_past_the_10000th() {
    let Some(app) = spawn_app_mysql(
        "sub_accounts::mysql_only_a_list_over_several_projects_refuses_rows_past_the_10000th",
    )
    .await
    else {
        return;
    };
    only_a_list_over_several_projects_is_bounded(&app).await;
}

/// Five orders in each project of the family, all started at the same instant, written
/// straight into the database (the service would stamp each with its own microsecond),
/// and the server on it.
fn family_of_ties(url: &str) -> Command {
    migrate(url);
    let start = days_ago(1);
    let orders: Vec<NewOrder> = FAMILY
        .iter()
        .flat_map(|project| {
            (0..5).map(move |n| NewOrder {
                order_id: format!("{project}-tie-{n}"),
                project: (*project).to_owned(),
                plan: catalog::VOLUME,
                quantities: 1,
                start,
                resource_name: Some(format!("tie-{n}")),
                keeper: Keeper::LocalLedger,
            })
        })
        .collect();
    let mut db = Db::connect(url).unwrap();
    insert_orders(&mut db, &orders).unwrap();
    let mut serve = command(url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    serve
}

/// With every order of the family at one instant, the merge's tie rule decides it all:
/// the main account's orders first, then each sub-account's in the order listed, each
/// project's in its own list's order; and every window, read in chunks over the real
/// store, is the matching slice of that.
async fn ties_follow_the_project_order(app: &TestApp) {
    let mut expected = Vec::new();
    for project in FAMILY {
        let own = read(
            app,
            &format!("/orders?project={project}&size=100"),
            member(project),
        )
        .await;
        assert_eq!(results(&own).len(), 5, "{project}");
        expected.extend(column(&own, "orderId"));
    }
    let all = read(app, "/orders?project=demo&account_type=all&size=100", DEMO).await;
    assert_eq!(column(&all, "orderId"), expected);
    for offset in 0..expected.len() {
        for limit in 1..=4 {
            let window = read(
                app,
                &format!("/orders?project=demo&account_type=all&offset={offset}&limit={limit}"),
                DEMO,
            )
            .await;
            let slice: Vec<String> = expected.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(
                column(&window, "orderId"),
                slice,
                "offset {offset} limit {limit}"
            );
        }
    }
}

#[tokio::test]
async fn orders_of_one_instant_merge_by_project_then_each_projects_order() {
    let dir = SqliteDir::new();
    let serve = family_of_ties(&dir.url());
    ties_follow_the_project_order(&TestApp::spawn_command(serve, dir)).await;
}

#[tokio::test]
async fn mysql_orders_of_one_instant_merge_by_project_then_each_projects_order() {
    let Some(database) =
        MysqlDatabase::create("sub_accounts::mysql_orders_of_one_instant_merge_by_project")
    else {
        return;
    };
    let serve = family_of_ties(&database.url());
    ties_follow_the_project_order(&TestApp::spawn_command_mysql(serve, database)).await;
}
