-- The local ledger: one balance per project, money in ten-thousandths.
CREATE TABLE DF_BALANCE (
    ACCOUNT_ID  VARCHAR(64) NOT NULL COMMENT 'the project',
    BALANCE     BIGINT      NOT NULL COMMENT 'scaled by 10000',
    UPDATE_TIME DATETIME(6) NOT NULL,
    PRIMARY KEY (ACCOUNT_ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
