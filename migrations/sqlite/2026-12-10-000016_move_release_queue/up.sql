-- The releases still owed become resource tasks; see migrations/mysql.
INSERT INTO DF_RESOURCE_TASK (ORDER_ID, ACCOUNT_ID, REGION, PLAN_ID, PLAN_TYPE, KIND,
                              RESOURCE_NAME, CREATOR, ACTION, CREATED_AT, ATTEMPTS,
                              NEXT_ATTEMPT_AT, DONE_AT, LAST_ERROR)
SELECT q.ORDER_ID, o.ACCOUNT_ID, o.REGION, o.PLAN_ID, o.PLAN_TYPE,
       CASE WHEN o.PLAN_TYPE = 'bsi' THEN 'bsi'
            WHEN o.PLAN_TYPE = 'volume' THEN 'volume'
            ELSE 'quota' END,
       o.RESOURCE_NAME, o.CREATOR,
       CASE WHEN o.PLAN_TYPE IN ('cpuquota', 'quota', 'resources') THEN 1 ELSE 0 END,
       q.CREATED_AT, q.ATTEMPTS, q.NEXT_ATTEMPT_AT, NULL, q.LAST_ERROR
FROM DF_RELEASE_QUEUE q
JOIN DF_PURCHASE_ORDER o ON o.ORDER_ID = q.ORDER_ID
WHERE q.DONE_AT IS NULL
  AND o.PLAN_TYPE IN ('volume', 'bsi', 'cpuquota', 'quota', 'resources')
ORDER BY q.ID;
