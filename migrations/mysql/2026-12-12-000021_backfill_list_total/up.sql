-- The totals of the orders and consumption rows written before the totals were kept (data
-- only, no DDL). Run it before the new release serves: a change an older release commits
-- meanwhile is not counted.
INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'orders', STATUS, REGION, COUNT(*)
FROM DF_PURCHASE_ORDER
GROUP BY ACCOUNT_ID, STATUS, REGION;

INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'usages', 0, REGION, COUNT(*)
FROM DF_CONSUMING_HISTORY
GROUP BY ACCOUNT_ID, REGION;
