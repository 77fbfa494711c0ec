//! The service's tables as the migrations create them (only what seeding and checking
//! touch, at most diesel's default 16 columns), declared here rather than imported: the tests read the database as an outsider.

diesel::table! {
    #[sql_name = "DF_PURCHASE_ORDER"]
    purchase_order (order_id) {
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        #[sql_name = "PLAN_ID"]
        plan_id -> Text,
        #[sql_name = "PLAN_TYPE"]
        plan_type -> Text,
        #[sql_name = "CHARGING_MODE"]
        charging_mode -> SmallInt,
        #[sql_name = "QUANTITIES"]
        quantities -> Integer,
        #[sql_name = "START_TIME"]
        start_time -> Timestamp,
        #[sql_name = "DEADLINE_TIME"]
        deadline_time -> Timestamp,
        #[sql_name = "LAST_CONSUME_ID"]
        last_consume_id -> Integer,
        #[sql_name = "RENEW_RETRIES"]
        renew_retries -> Integer,
        #[sql_name = "STATUS"]
        status -> SmallInt,
        #[sql_name = "CREATOR"]
        creator -> Text,
        #[sql_name = "RESOURCE_NAME"]
        resource_name -> Nullable<Text>,
        #[sql_name = "ACTIVE_RESOURCE_NAME"]
        active_resource_name -> Nullable<Text>,
        /// The order a plan switch replaced (its order type is `switch`).
        #[sql_name = "REPLACES"]
        replaces -> Nullable<Text>,
    }
}

diesel::table! {
    #[sql_name = "DF_CONSUMING_HISTORY"]
    consuming_history (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "CONSUME_ID"]
        consume_id -> Integer,
        #[sql_name = "CONSUMING"]
        consuming -> BigInt,
        #[sql_name = "CONSUME_TIME"]
        consume_time -> Timestamp,
        #[sql_name = "DEADLINE_TIME"]
        deadline_time -> Timestamp,
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
    #[sql_name = "DF_BALANCE"]
    balance (account_id) {
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "BALANCE"]
        amount -> BigInt,
        #[sql_name = "UPDATE_TIME"]
        update_time -> Timestamp,
    }
}

diesel::table! {
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
        create_time -> Timestamp,
    }
}

diesel::table! {
    /// The columns of DF_PURCHASE_ORDER that the service's orders keep beyond what
    /// `purchase_order` declares (a table of its own: diesel's default is 16 columns).
    #[sql_name = "DF_PURCHASE_ORDER"]
    order_terms (order_id) {
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        /// 0 month, 1 year.
        #[sql_name = "CYCLE"]
        cycle -> SmallInt,
        /// One unit, one cycle, in ten-thousandths.
        #[sql_name = "PRICE"]
        price -> BigInt,
        /// 0 the local ledger, 1 the region's charge service.
        #[sql_name = "KEEPER"]
        keeper -> SmallInt,
        #[sql_name = "PAYMENT_SEQ"]
        payment_seq -> Integer,
        /// The number of the payment the order waits for, NULL when none.
        #[sql_name = "AWAITING_PAYMENT"]
        awaiting_payment -> Nullable<Integer>,
        /// REGION while the order holds its project's quota there.
        #[sql_name = "ACTIVE_QUOTA"]
        active_quota -> Nullable<Text>,
    }
}

diesel::table! {
    /// Payments (all but ATTEMPTS and LAST_ERROR, which default to 0 and NULL).
    #[sql_name = "DF_PAYMENT"]
    payment (order_id, seq) {
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "SEQ"]
        seq -> Integer,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        /// 0 the local ledger, 1 a charge service.
        #[sql_name = "KEEPER"]
        keeper -> SmallInt,
        /// 0 deduction, 1 credit.
        #[sql_name = "DIRECTION"]
        direction -> SmallInt,
        #[sql_name = "AMOUNT"]
        amount -> BigInt,
        #[sql_name = "CONSUME_ID"]
        consume_id -> Integer,
        #[sql_name = "ROW_KIND"]
        row_kind -> SmallInt,
        #[sql_name = "PERIOD_FROM"]
        period_from -> Timestamp,
        #[sql_name = "PERIOD_UNTIL"]
        period_until -> Timestamp,
        #[sql_name = "DEFERRED"]
        deferred -> Bool,
        /// 0 pending, 1 settled, 2 declined, 3 owed, 4 disputed.
        #[sql_name = "STATE"]
        state -> SmallInt,
        #[sql_name = "CREATED_AT"]
        created_at -> Timestamp,
        #[sql_name = "SETTLED_AT"]
        settled_at -> Nullable<Timestamp>,
        #[sql_name = "NEXT_ATTEMPT_AT"]
        next_attempt_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(purchase_order, consuming_history);

diesel::table! {
    /// Resource tasks (releases, quota settings): only what a test moves.
    #[sql_name = "DF_RESOURCE_TASK"]
    resource_task (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "NEXT_ATTEMPT_AT"]
        next_attempt_at -> Timestamp,
        #[sql_name = "DONE_AT"]
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// What the embedded provisioning records of an order's resource (volume, service
    /// instance or quota): the platform of the regions without one.
    #[sql_name = "DF_RESOURCE"]
    resource (order_id) {
        #[sql_name = "ORDER_ID"]
        order_id -> Text,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
        /// `volume`, `bsi` or `quota`.
        #[sql_name = "KIND"]
        kind -> Text,
        /// NULL while the resource lives.
        #[sql_name = "RELEASED_AT"]
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// What the list totals need of DF_NOTIFICATION.
    #[sql_name = "DF_NOTIFICATION"]
    notification (id) {
        #[sql_name = "ID"]
        id -> BigInt,
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        #[sql_name = "REGION"]
        region -> Text,
    }
}

diesel::table! {
    /// The totals the list pages show, kept by the service's changes.
    #[sql_name = "DF_LIST_TOTAL"]
    list_total (account_id, list, status, region, plan_type, order_type) {
        #[sql_name = "ACCOUNT_ID"]
        account_id -> Text,
        /// `orders`, `usages`, `notifications` or `recharges`.
        #[sql_name = "LIST"]
        list -> Text,
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
