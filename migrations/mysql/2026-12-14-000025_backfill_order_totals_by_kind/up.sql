-- The orders' totals, redone by plan type and order type (data only, no DDL). Run it before
-- the new release serves: a change an older release commits meanwhile is counted under
-- the empty plan type, where no filter by plan type finds it.
DELETE FROM DF_LIST_TOTAL WHERE LIST = 'orders';

INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, ORDER_TYPE, TOTAL)
SELECT ACCOUNT_ID, 'orders', STATUS, REGION, PLAN_TYPE,
       CASE WHEN REPLACES IS NULL THEN 0 ELSE 1 END, COUNT(*)
FROM DF_PURCHASE_ORDER
GROUP BY ACCOUNT_ID, STATUS, REGION, PLAN_TYPE, CASE WHEN REPLACES IS NULL THEN 0 ELSE 1 END;
