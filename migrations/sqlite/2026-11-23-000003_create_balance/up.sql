-- The local ledger: one balance per project, money in ten-thousandths.
CREATE TABLE DF_BALANCE (
    ACCOUNT_ID  TEXT      NOT NULL PRIMARY KEY,
    BALANCE     BIGINT    NOT NULL,
    UPDATE_TIME TIMESTAMP NOT NULL
);
