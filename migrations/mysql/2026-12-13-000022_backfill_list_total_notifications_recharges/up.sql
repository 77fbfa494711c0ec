-- The notifications and recharges written before their totals were kept (data only, no
-- DDL): notifications per project and region, recharges per project under the region ''.
-- Run it before the new release serves: a notification or recharge an older release
-- commits meanwhile is not counted.
INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'notifications', 0, REGION, COUNT(*)
FROM DF_NOTIFICATION
GROUP BY ACCOUNT_ID, REGION;

INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL)
SELECT ACCOUNT_ID, 'recharges', 0, '', COUNT(*)
FROM DF_RECHARGE
GROUP BY ACCOUNT_ID;
