-- Payments: every movement of money, recorded in the transaction of the change that causes
-- it, before it moves. (ORDER_ID, SEQ) is the payment's id (`pay:{ORDER_ID}:{SEQ}`, sent to
-- a charge service as the payment's reason): unique. KEEPER 0 the local ledger (settled in
-- the recording transaction), 1 the region's charge service (sent after it). DIRECTION 0
-- deduction, 1 credit; AMOUNT is positive, in ten-thousandths. CONSUME_ID, ROW_KIND (0 new,
-- 1 renew, 2 switch, 3 end), PERIOD_FROM and PERIOD_UNTIL describe the consumption row it
-- pays; DEFERRED (1) means that row is written only once the payment is taken. STATE 0
-- pending, 1 settled, 2 declined, 3 owed, 4 disputed. The due index serves the settler's
-- read (open states, next attempt passed, oldest first); the project index the list of a
-- project's payments (its books, its arrears).
CREATE TABLE DF_PAYMENT (
    ID              BIGINT        NOT NULL AUTO_INCREMENT,
    ORDER_ID        VARCHAR(64)   NOT NULL,
    SEQ             INT           NOT NULL COMMENT '1, 2, 3 ... within the order',
    ACCOUNT_ID      VARCHAR(64)   NOT NULL COMMENT 'the project',
    REGION          VARCHAR(32)   NOT NULL,
    KEEPER          SMALLINT      NOT NULL COMMENT '0 local ledger, 1 charge service',
    DIRECTION       SMALLINT      NOT NULL COMMENT '0 deduction, 1 credit',
    AMOUNT          BIGINT        NOT NULL COMMENT 'scaled by 10000; positive',
    CONSUME_ID      INT           NOT NULL COMMENT 'the consumption row it pays',
    ROW_KIND        SMALLINT      NOT NULL COMMENT '0 new, 1 renew, 2 switch, 3 end',
    PERIOD_FROM     DATETIME(6)   NOT NULL,
    PERIOD_UNTIL    DATETIME(6)   NOT NULL,
    DEFERRED        BOOLEAN       NOT NULL COMMENT 'its row is written once it is taken',
    STATE           SMALLINT      NOT NULL COMMENT '0 pending, 1 settled, 2 declined, 3 owed, 4 disputed',
    CREATED_AT      DATETIME(6)   NOT NULL,
    SETTLED_AT      DATETIME(6)   NULL,
    ATTEMPTS        INT           NOT NULL DEFAULT 0,
    NEXT_ATTEMPT_AT DATETIME(6)   NOT NULL,
    LAST_ERROR      VARCHAR(1024) NULL,
    PRIMARY KEY (ID),
    UNIQUE KEY UK_PAYMENT_ORDER_SEQ (ORDER_ID, SEQ),
    KEY IDX_PAYMENT_DUE (STATE, NEXT_ATTEMPT_AT, ID),
    KEY IDX_PAYMENT_ACCOUNT (ACCOUNT_ID, ID),
    CONSTRAINT CK_PAYMENT_AMOUNT CHECK (AMOUNT > 0),
    CONSTRAINT FK_PAYMENT_ORDER FOREIGN KEY (ORDER_ID) REFERENCES DF_PURCHASE_ORDER (ORDER_ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
