-- Recharges that fed the balances, listed newest first per project.
CREATE TABLE DF_RECHARGE (
    ID          BIGINT        NOT NULL AUTO_INCREMENT,
    ACCOUNT_ID  VARCHAR(64)   NOT NULL COMMENT 'the project',
    AMOUNT      BIGINT        NOT NULL COMMENT 'scaled by 10000',
    COMMENT     VARCHAR(1024) NULL,
    OPERATOR    VARCHAR(64)   NOT NULL,
    CREATE_TIME DATETIME(6)   NOT NULL,
    PRIMARY KEY (ID),
    KEY IDX_RECHARGE_ACCOUNT (ACCOUNT_ID, ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
