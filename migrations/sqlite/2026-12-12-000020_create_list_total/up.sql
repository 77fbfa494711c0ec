-- The totals the list pages show; see migrations/mysql for the column meanings.
CREATE TABLE DF_LIST_TOTAL (
    ACCOUNT_ID TEXT     NOT NULL,
    LIST       TEXT     NOT NULL,
    STATUS     SMALLINT NOT NULL,
    REGION     TEXT     NOT NULL,
    TOTAL      BIGINT   NOT NULL,
    PRIMARY KEY (ACCOUNT_ID, LIST, STATUS, REGION)
);
