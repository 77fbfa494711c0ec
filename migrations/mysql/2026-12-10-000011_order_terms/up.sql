-- Orders keep their terms and carry what guards their writes, in one ALTER TABLE (one DDL
-- statement, so it applies whole or not at all):
-- - CYCLE (0 month, 1 year), PRICE (one unit, one cycle, in ten-thousandths) and KEEPER
--   (0 the local ledger, 1 the region's charge service) are fixed when the order opens, so
--   editing the catalog or the region's configuration never changes a running order;
-- - VERSION is bumped by every write, and every update is guarded by the version it was
--   decided from;
-- - PAYMENT_SEQ is the number of the order's latest payment; AWAITING_PAYMENT the number of
--   the payment it waits for (NULL when none);
-- - REPLACES / REPLACED_BY link the two orders of a plan switch;
-- - ACTIVE_QUOTA is REGION while the order holds its project's quota there, else NULL: the
--   unique key lets only one order of a project hold a region's quota, race-free (NULLs
--   never collide).
-- The backfill of existing orders follows in the next migration.
ALTER TABLE DF_PURCHASE_ORDER
    ADD COLUMN CYCLE SMALLINT NOT NULL DEFAULT 0 COMMENT '0 month, 1 year' AFTER QUANTITIES,
    ADD COLUMN PRICE BIGINT NOT NULL DEFAULT 0 COMMENT 'one unit, one cycle; scaled by 10000' AFTER CYCLE,
    ADD COLUMN KEEPER SMALLINT NOT NULL DEFAULT 0 COMMENT '0 local ledger, 1 charge service' AFTER PRICE,
    ADD COLUMN VERSION INT NOT NULL DEFAULT 0 COMMENT 'bumped by every write' AFTER LAST_WARNED_AT,
    ADD COLUMN PAYMENT_SEQ INT NOT NULL DEFAULT 0 COMMENT 'number of the latest payment' AFTER VERSION,
    ADD COLUMN AWAITING_PAYMENT INT NULL COMMENT 'number of the payment the order waits for' AFTER PAYMENT_SEQ,
    ADD COLUMN REPLACES VARCHAR(64) NULL COMMENT 'the order this one switched from' AFTER AWAITING_PAYMENT,
    ADD COLUMN REPLACED_BY VARCHAR(64) NULL COMMENT 'the pending order switching this one away' AFTER REPLACES,
    ADD COLUMN ACTIVE_QUOTA VARCHAR(32) NULL COMMENT 'REGION while the order holds the quota, else NULL' AFTER ACTIVE_RESOURCE_NAME,
    ADD UNIQUE KEY UK_PURCHASE_ORDER_ACTIVE_QUOTA (ACCOUNT_ID, ACTIVE_QUOTA);
