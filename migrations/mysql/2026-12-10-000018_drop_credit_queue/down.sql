-- Credits owed back by the charge service of a region, queued in the transaction that
-- writes the row recording them and delivered at least once. (ORDER_ID, CONSUME_ID) is that
-- row and the payment's idempotency key (`order:{ORDER_ID}:{CONSUME_ID}`): unique here and
-- a reference to the history row. AMOUNT is positive, in ten-thousandths. The due index
-- serves the delivery loop's read (undelivered, next attempt passed).
CREATE TABLE DF_CREDIT_QUEUE (
    ID              BIGINT        NOT NULL AUTO_INCREMENT,
    ORDER_ID        VARCHAR(64)   NOT NULL,
    CONSUME_ID      INT           NOT NULL COMMENT 'the consumption row that records the credit',
    ACCOUNT_ID      VARCHAR(64)   NOT NULL COMMENT 'the project (namespace)',
    REGION          VARCHAR(32)   NOT NULL,
    AMOUNT          BIGINT        NOT NULL COMMENT 'scaled by 10000; positive',
    CREATED_AT      DATETIME(6)   NOT NULL,
    ATTEMPTS        INT           NOT NULL DEFAULT 0 COMMENT 'failed deliveries so far',
    NEXT_ATTEMPT_AT DATETIME(6)   NOT NULL,
    DELIVERED_AT    DATETIME(6)   NULL,
    LAST_ERROR      VARCHAR(1024) NULL,
    PRIMARY KEY (ID),
    UNIQUE KEY UK_CREDIT_QUEUE_REASON (ORDER_ID, CONSUME_ID),
    KEY IDX_CREDIT_QUEUE_DUE (DELIVERED_AT, NEXT_ATTEMPT_AT),
    CONSTRAINT FK_CREDIT_QUEUE_HISTORY FOREIGN KEY (ORDER_ID, CONSUME_ID)
        REFERENCES DF_CONSUMING_HISTORY (ORDER_ID, CONSUME_ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
