-- The terms of the orders written before orders kept them (data only, no DDL):
-- - CYCLE: a year (1) where the order's row #1 (or, with no row yet, START_TIME to
--   DEADLINE_TIME) spans 365 days or more, else a month (the column's default);
-- - PRICE: the latest positive charge row's amount per unit (0 for an order never charged:
--   a postpaid order's first settlement then bills at 0, so an operator should set the
--   PRICE of such orders from the catalog);
-- - PAYMENT_SEQ: LAST_CONSUME_ID, since the next migration records one payment per row,
--   numbered like it;
-- - ACTIVE_QUOTA: REGION for the newest open (consuming or ending) quota order of each
--   project and region, so the unique key holds; older duplicates (which the service
--   allowed before) keep running, but no longer hold the quota.
-- KEEPER stays 0 (the local ledger): orders of regions whose charge service keeps the money
-- must be set to 1 by the operator, who knows which regions those are.
UPDATE DF_PURCHASE_ORDER o
LEFT JOIN DF_CONSUMING_HISTORY h ON h.ORDER_ID = o.ORDER_ID AND h.CONSUME_ID = 1
SET o.CYCLE = 1
WHERE TIMESTAMPDIFF(DAY, COALESCE(h.CONSUME_TIME, o.START_TIME),
                         COALESCE(h.DEADLINE_TIME, o.DEADLINE_TIME)) >= 365;

UPDATE DF_PURCHASE_ORDER o
JOIN (
    SELECT h.ORDER_ID, h.CONSUMING
    FROM DF_CONSUMING_HISTORY h
    JOIN (
        SELECT ORDER_ID, MAX(CONSUME_ID) AS CONSUME_ID
        FROM DF_CONSUMING_HISTORY
        WHERE CONSUMING > 0
        GROUP BY ORDER_ID
    ) latest ON latest.ORDER_ID = h.ORDER_ID AND latest.CONSUME_ID = h.CONSUME_ID
) charge ON charge.ORDER_ID = o.ORDER_ID
SET o.PRICE = charge.CONSUMING DIV GREATEST(o.QUANTITIES, 1);

UPDATE DF_PURCHASE_ORDER SET PAYMENT_SEQ = LAST_CONSUME_ID;

UPDATE DF_PURCHASE_ORDER o
JOIN (
    SELECT MAX(ID) AS ID
    FROM DF_PURCHASE_ORDER
    WHERE STATUS IN (5, 10) AND PLAN_TYPE IN ('cpuquota', 'quota', 'resources')
    GROUP BY ACCOUNT_ID, REGION
) newest ON newest.ID = o.ID
SET o.ACTIVE_QUOTA = o.REGION;
