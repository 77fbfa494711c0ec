-- The order list's filters, each served from an index led by the project (one ALTER
-- TABLE, so it applies whole or not at all):
-- - every status, newest first, with or without a creation time range: (ACCOUNT_ID,
--   START_TIME); one status uses IDX_PURCHASE_ORDER_ACCOUNT_STATUS, a region
--   IDX_PURCHASE_ORDER_ACCOUNT_REGION_STATUS, as before;
-- - a resource (plan) type, with or without a status: (ACCOUNT_ID, PLAN_TYPE,
--   START_TIME), a status then filtered from the rows it reads in order;
-- - plan switches, which are few: (ACCOUNT_ID, REPLACES) (new orders are nearly all of
--   them, so the ordered indexes above find a page of those at once);
-- - a search word, a prefix of the order id (UK_PURCHASE_ORDER_ORDER_ID), of the resource
--   name (ACCOUNT_ID, RESOURCE_NAME) or of the plan id (ACCOUNT_ID, PLAN_ID).
ALTER TABLE DF_PURCHASE_ORDER
    ADD KEY IDX_PURCHASE_ORDER_ACCOUNT_START (ACCOUNT_ID, START_TIME),
    ADD KEY IDX_PURCHASE_ORDER_ACCOUNT_TYPE_START (ACCOUNT_ID, PLAN_TYPE, START_TIME),
    ADD KEY IDX_PURCHASE_ORDER_ACCOUNT_REPLACES (ACCOUNT_ID, REPLACES),
    ADD KEY IDX_PURCHASE_ORDER_ACCOUNT_RESOURCE_NAME (ACCOUNT_ID, RESOURCE_NAME),
    ADD KEY IDX_PURCHASE_ORDER_ACCOUNT_PLAN (ACCOUNT_ID, PLAN_ID);
