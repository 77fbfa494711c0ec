//! The tables, written by hand: `diesel print-schema` emits `Unsigned<BigInt>` and MySQL
//! `Datetime` for MySQL, which do not compile for a connection that also speaks SQLite.
//! Every time column is a [`UtcDateTime`](crate::backend::UtcDateTime): `DATETIME` on
//! MySQL, so that times past January 2038 fit, and text on SQLite.
//! Keep in step with `migrations/mysql` and `migrations/sqlite`; the integration tests
//! run every query against both.

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Orders (the seed's DF_PURCHASE_ORDER).
    #[sql_name = "DF_PURCHASE_ORDER"]
    purchase_order (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        #[sql_name = "PLAN_ID"]
        plan_id -> Text,
        #[sql_name = "PLAN_TYPE"]
        plan_type -> Text,
        /// 0 prepaid, 1 postpaid; fixed when the order opens.
        #[sql_name = "CHARGING_MODE"]
        charging_mode -> SmallInt,
        #[sql_name = "QUANTITIES"]
        quantities -> Integer,
        /// 0 month, 1 year; fixed when the order opens.
        #[sql_name = "CYCLE"]
        cycle -> SmallInt,
        /// One unit, one cycle, in ten-thousandths.
        #[sql_name = "PRICE"]
        price -> BigInt,
        /// 0 the local ledger, 1 the region's charge service; fixed when the order opens.
        #[sql_name = "KEEPER"]
        keeper -> SmallInt,
        #[sql_name = "START_TIME"]
        start_time -> UtcDateTime,
        #[sql_name = "END_TIME"]
        end_time -> Nullable<UtcDateTime>,
        #[sql_name = "DEADLINE_TIME"]
        deadline_time -> UtcDateTime,
        #[sql_name = "LAST_CONSUME_ID"]
        last_consume_id -> Integer,
        #[sql_name = "RENEW_RETRIES"]
        renew_retries -> Integer,
        #[sql_name = "LAST_WARNED_AT"]
        last_warned_at -> Nullable<UtcDateTime>,
        /// Bumped by every write; updates are guarded by it.
        #[sql_name = "VERSION"]
        version -> Integer,
        #[sql_name = "PAYMENT_SEQ"]
        payment_seq -> Integer,
        #[sql_name = "AWAITING_PAYMENT"]
        awaiting_payment -> Nullable<Integer>,
        #[sql_name = "REPLACES"]
        replaces -> Nullable<Text>,
        #[sql_name = "REPLACED_BY"]
        replaced_by -> Nullable<Text>,
        #[sql_name = "STATUS"]
        status -> SmallInt,
        #[sql_name = "CREATOR"]
        creator -> Text,
        #[sql_name = "RESOURCE_NAME"]
        resource_name -> Nullable<Text>,
        /// `RESOURCE_NAME` while the order holds its resource, NULL otherwise: the unique
        /// key on it is the race-free duplicate-name guard.
        #[sql_name = "ACTIVE_RESOURCE_NAME"]
        active_resource_name -> Nullable<Text>,
        /// `REGION` while the order holds its project's quota there, NULL otherwise: the
        /// unique key on it lets one order of a project hold a region's quota.
        #[sql_name = "ACTIVE_QUOTA"]
        active_quota -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Consumption history (the seed's DF_CONSUMING_HISTORY).
    #[sql_name = "DF_CONSUMING_HISTORY"]
    consuming_history (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "CONSUME_ID"]
        consume_id -> Integer,
        /// Money in ten-thousandths; positive charge, negative refund.
        #[sql_name = "CONSUMING"]
        consuming -> BigInt,
        #[sql_name = "CONSUME_TIME"]
        consume_time -> UtcDateTime,
        /// Covered until.
        #[sql_name = "DEADLINE_TIME"]
        deadline_time -> UtcDateTime,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        #[sql_name = "PLAN_ID"]
        plan_id -> Text,
        #[sql_name = "KIND"]
        kind -> SmallInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// One balance per project.
    #[sql_name = "DF_BALANCE"]
    balance (account_id) {
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "BALANCE"]
        amount -> BigInt,
        #[sql_name = "UPDATE_TIME"]
        update_time -> UtcDateTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Recharges that fed the balances.
    #[sql_name = "DF_RECHARGE"]
    recharge (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "AMOUNT"]
        amount -> BigInt,
        #[sql_name = "COMMENT"]
        comment -> Nullable<Text>,
        #[sql_name = "OPERATOR"]
        operator -> Text,
        #[sql_name = "CREATE_TIME"]
        create_time -> UtcDateTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Events about orders, kept for projects to read.
    #[sql_name = "DF_NOTIFICATION"]
    notification (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        /// The kind's label (`order_renewed`, …).
        #[sql_name = "KIND"]
        kind -> Text,
        /// Money moved, in ten-thousandths; NULL when none.
        #[sql_name = "AMOUNT"]
        amount -> Nullable<BigInt>,
        #[sql_name = "MESSAGE"]
        message -> Text,
        #[sql_name = "CREATE_TIME"]
        create_time -> UtcDateTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Resources recorded by the embedded provisioning, one per order.
    #[sql_name = "DF_RESOURCE"]
    resource (order_id) {
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        /// `volume`, `bsi` or `quota`.
        #[sql_name = "KIND"]
        kind -> Text,
        #[sql_name = "NAME"]
        name -> Nullable<Text>,
        /// `NAME` while not released, NULL after: the unique key on it is the race-free
        /// duplicate-name guard.
        #[sql_name = "ACTIVE_NAME"]
        active_name -> Nullable<Text>,
        #[sql_name = "CREATED_AT"]
        created_at -> UtcDateTime,
        #[sql_name = "RELEASED_AT"]
        released_at -> Nullable<UtcDateTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// The webhook outbox: one row per notification and endpoint.
    #[sql_name = "DF_WEBHOOK_DELIVERY"]
    webhook_delivery (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "NOTIFICATION_ID"]
        notification_id -> BigInt,
        /// The configured webhook's name.
        #[sql_name = "ENDPOINT"]
        endpoint -> Text,
        #[sql_name = "ATTEMPTS"]
        attempts -> Integer,
        #[sql_name = "NEXT_ATTEMPT_AT"]
        next_attempt_at -> UtcDateTime,
        #[sql_name = "DELIVERED_AT"]
        delivered_at -> Nullable<UtcDateTime>,
        #[sql_name = "GAVE_UP_AT"]
        gave_up_at -> Nullable<UtcDateTime>,
        #[sql_name = "LAST_ERROR"]
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Payments: every movement of money, recorded before it moves.
    #[sql_name = "DF_PAYMENT"]
    payment (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        /// With `SEQ`: the payment's id, `pay:{ORDER_ID}:{SEQ}`.
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "SEQ"]
        seq -> Integer,
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        /// 0 the local ledger, 1 the region's charge service.
        #[sql_name = "KEEPER"]
        keeper -> SmallInt,
        /// 0 deduction, 1 credit.
        #[sql_name = "DIRECTION"]
        direction -> SmallInt,
        /// Positive, in ten-thousandths.
        #[sql_name = "AMOUNT"]
        amount -> BigInt,
        /// The consumption row it pays.
        #[sql_name = "CONSUME_ID"]
        consume_id -> Integer,
        /// The row's kind code.
        #[sql_name = "ROW_KIND"]
        row_kind -> SmallInt,
        #[sql_name = "PERIOD_FROM"]
        period_from -> UtcDateTime,
        #[sql_name = "PERIOD_UNTIL"]
        period_until -> UtcDateTime,
        /// Whether its row is written only once it is taken.
        #[sql_name = "DEFERRED"]
        deferred -> Bool,
        /// 0 pending, 1 settled, 2 declined, 3 owed, 4 disputed.
        #[sql_name = "STATE"]
        state -> SmallInt,
        #[sql_name = "CREATED_AT"]
        created_at -> UtcDateTime,
        #[sql_name = "SETTLED_AT"]
        settled_at -> Nullable<UtcDateTime>,
        #[sql_name = "ATTEMPTS"]
        attempts -> Integer,
        #[sql_name = "NEXT_ATTEMPT_AT"]
        next_attempt_at -> UtcDateTime,
        #[sql_name = "LAST_ERROR"]
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Resource tasks (releases, quota settings): the outbox of platform work.
    #[sql_name = "DF_RESOURCE_TASK"]
    resource_task (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        /// The order that provides (or was to provide) the resource; it may not exist.
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        #[sql_name = "PLAN_ID"]
        plan_id -> Text,
        #[sql_name = "PLAN_TYPE"]
        plan_type -> Text,
        /// `volume`, `bsi` or `quota`.
        #[sql_name = "KIND"]
        kind -> Text,
        #[sql_name = "RESOURCE_NAME"]
        resource_name -> Nullable<Text>,
        #[sql_name = "CREATOR"]
        creator -> Text,
        /// 0 release, 1 sync quota.
        #[sql_name = "ACTION"]
        action -> SmallInt,
        #[sql_name = "CREATED_AT"]
        created_at -> UtcDateTime,
        /// Runs claimed so far.
        #[sql_name = "ATTEMPTS"]
        attempts -> Integer,
        #[sql_name = "NEXT_ATTEMPT_AT"]
        next_attempt_at -> UtcDateTime,
        /// Done, or cancelled before it ran.
        #[sql_name = "DONE_AT"]
        done_at -> Nullable<UtcDateTime>,
        #[sql_name = "LAST_ERROR"]
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::backend::UtcDateTime;

    /// Requests made under idempotency keys, recorded with the changes they caused.
    #[sql_name = "DF_IDEMPOTENCY_KEY"]
    idempotency_key (account_id, idem_key) {
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "IDEM_KEY"]
        idem_key -> Text,
        #[sql_name = "FINGERPRINT"]
        fingerprint -> Text,
        /// What the request produced: `order:{id}`, `recharge:{id}`.
        #[sql_name = "RESULT"]
        result -> Text,
        #[sql_name = "CREATED_AT"]
        created_at -> UtcDateTime,
        /// The answer's HTTP status, once known.
        #[sql_name = "STATUS"]
        status -> Nullable<SmallInt>,
        /// The answer's body, once known.
        #[sql_name = "BODY"]
        body -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    /// The totals the list pages show, kept by the changes that move them.
    #[sql_name = "DF_LIST_TOTAL"]
    list_total (account_id, list, status, region, plan_type, order_type) {
        /// The project.
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        /// `orders`, `usages`, `notifications` or `recharges`.
        #[sql_name = "LIST"]
        list -> Text,
        /// Orders: their status; others: 0.
        #[sql_name = "STATUS"]
        status -> SmallInt,
        #[sql_name = "REGION"]
        region -> Text,
        /// Orders: their plan type; others: empty.
        #[sql_name = "PLAN_TYPE"]
        plan_type -> Text,
        /// Orders: 0 new, 1 a plan switch; others: 0.
        #[sql_name = "ORDER_TYPE"]
        order_type -> SmallInt,
        #[sql_name = "TOTAL"]
        total -> BigInt,
    }
}

diesel::joinable!(webhook_delivery -> notification (notification_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_delivery, notification);
// A list's page selects its total from DF_LIST_TOTAL as a subquery beside each row.
diesel::allow_tables_to_appear_in_same_query!(
    list_total,
    purchase_order,
    consuming_history,
    notification,
    recharge
);
