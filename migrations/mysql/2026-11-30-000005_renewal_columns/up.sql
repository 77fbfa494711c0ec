-- The renewal engine's columns and index, in one ALTER TABLE (one DDL statement, so it
-- applies whole or not at all). CHARGING_MODE is fixed when the order opens; orders
-- created before it existed were all prepaid, hence the default. The renewal index serves
-- the claim query of each queue (mode, status) as one range scan in (deadline, order id)
-- order; it replaces the (STATUS, DEADLINE_TIME) index, whose only user was renewal.
ALTER TABLE DF_PURCHASE_ORDER
    ADD COLUMN CHARGING_MODE SMALLINT NOT NULL DEFAULT 0 COMMENT '0 prepaid, 1 postpaid' AFTER PLAN_TYPE,
    ADD COLUMN LAST_WARNED_AT DATETIME(6) NULL COMMENT 'last renewal-failed warning' AFTER RENEW_RETRIES,
    ADD KEY IDX_PURCHASE_ORDER_RENEWAL (CHARGING_MODE, STATUS, DEADLINE_TIME, ORDER_ID),
    DROP KEY IDX_PURCHASE_ORDER_STATUS_DEADLINE;
