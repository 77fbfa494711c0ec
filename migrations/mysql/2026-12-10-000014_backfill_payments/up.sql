-- One settled local-ledger payment for every row written before payments were recorded
-- that moved money (data only, no DDL): numbered by the row (SEQ = CONSUME_ID, which the
-- previous migration made the orders' PAYMENT_SEQ), a deduction for a charge and a credit
-- for a refund, recorded and settled when the row was written. Rows of zero move nothing
-- and get none. (Rows of orders whose money a charge service kept are recorded as the
-- ledger's too: the service cannot know which regions those were; see the previous
-- migration's note on KEEPER.)
INSERT INTO DF_PAYMENT (ORDER_ID, SEQ, ACCOUNT_ID, REGION, KEEPER, DIRECTION, AMOUNT,
                        CONSUME_ID, ROW_KIND, PERIOD_FROM, PERIOD_UNTIL, DEFERRED, STATE,
                        CREATED_AT, SETTLED_AT, ATTEMPTS, NEXT_ATTEMPT_AT, LAST_ERROR)
SELECT ORDER_ID, CONSUME_ID, ACCOUNT_ID, REGION, 0,
       CASE WHEN CONSUMING > 0 THEN 0 ELSE 1 END, ABS(CONSUMING),
       CONSUME_ID, KIND, CONSUME_TIME, DEADLINE_TIME, FALSE, 1,
       CONSUME_TIME, CONSUME_TIME, 0, CONSUME_TIME, NULL
FROM DF_CONSUMING_HISTORY
WHERE CONSUMING <> 0
ORDER BY ID;
