-- The totals of the notifications and recharges written before their totals were kept;
-- see migrations/mysql.
INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'notifications', 0, REGION, COUNT(*)
FROM DF_NOTIFICATION
GROUP BY ACCOUNT_ID, REGION;

INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'recharges', 0, '', COUNT(*)
FROM DF_RECHARGE
GROUP BY ACCOUNT_ID;
