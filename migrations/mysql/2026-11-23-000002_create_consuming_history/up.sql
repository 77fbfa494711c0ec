-- Consumption history: one row per charge (positive) or refund (negative) of an order,
-- money in ten-thousandths. The unique (ORDER_ID, CONSUME_ID) key makes charging one cycle
-- twice impossible. The indexes serve the usage list (project [+ region], newest first).
CREATE TABLE DF_CONSUMING_HISTORY (
    ID            BIGINT       NOT NULL AUTO_INCREMENT,
    ORDER_ID      VARCHAR(64)  NOT NULL,
    CONSUME_ID    INT          NOT NULL COMMENT '1, 2, 3 ... within the order',
    CONSUMING     BIGINT       NOT NULL COMMENT 'scaled by 10000; negative = refund',
    CONSUME_TIME  DATETIME(6)  NOT NULL,
    DEADLINE_TIME DATETIME(6)  NOT NULL COMMENT 'covered until',
    ACCOUNT_ID    VARCHAR(64)  NOT NULL COMMENT 'the project',
    REGION        VARCHAR(32)  NOT NULL,
    PLAN_ID       VARCHAR(64)  NOT NULL,
    KIND          SMALLINT     NOT NULL COMMENT '0 new, 1 renew, 2 switch, 3 end',
    PRIMARY KEY (ID),
    UNIQUE KEY UK_CONSUMING_HISTORY_ORDER_CONSUME (ORDER_ID, CONSUME_ID),
    KEY IDX_CONSUMING_HISTORY_ACCOUNT_TIME (ACCOUNT_ID, CONSUME_TIME, ID),
    KEY IDX_CONSUMING_HISTORY_ACCOUNT_REGION_TIME (ACCOUNT_ID, REGION, CONSUME_TIME, ID),
    CONSTRAINT FK_CONSUMING_HISTORY_ORDER FOREIGN KEY (ORDER_ID) REFERENCES DF_PURCHASE_ORDER (ORDER_ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
