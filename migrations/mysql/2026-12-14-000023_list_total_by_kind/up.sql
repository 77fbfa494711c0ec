-- Orders are also counted by plan type (PLAN_TYPE, a console's "resource type") and by how
-- they came to be (ORDER_TYPE: 0 new, 1 a plan switch), so that a list filtered by any of
-- status, region, plan type and order type sums a project's few totals instead of counting
-- its orders. Other lists keep '' and 0 there. One ALTER TABLE (one DDL statement, so it
-- applies whole or not at all); the orders' totals are redone by kind two migrations on.
ALTER TABLE DF_LIST_TOTAL
    ADD COLUMN PLAN_TYPE  VARCHAR(16) NOT NULL DEFAULT '' COMMENT 'orders: their plan type; others: empty' AFTER REGION,
    ADD COLUMN ORDER_TYPE SMALLINT    NOT NULL DEFAULT 0 COMMENT 'orders: 0 new, 1 switch; others: 0' AFTER PLAN_TYPE,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, ORDER_TYPE);
