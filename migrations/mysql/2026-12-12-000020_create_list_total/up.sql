-- The totals the list pages show, kept per project so a page never counts the project's
-- rows: how many orders a project has per STATUS and REGION (LIST 'orders'), and how many
-- consumption rows per REGION (LIST 'usages', STATUS 0). Every change adds what it inserts
-- and moves what it changes, in its own transaction, so a total is exact at every commit;
-- a list without a region sums the project's few regions. A filter a later list gains
-- that takes few values (a plan type, a charging mode) becomes another key column, with
-- the same rule; the backfill follows in the next migration.
CREATE TABLE DF_LIST_TOTAL (
    ACCOUNT_ID VARCHAR(64) NOT NULL COMMENT 'the project',
    LIST       VARCHAR(16) NOT NULL COMMENT 'orders, usages',
    STATUS     SMALLINT    NOT NULL COMMENT 'orders: their status; usages: 0',
    REGION     VARCHAR(32) NOT NULL,
    TOTAL      BIGINT      NOT NULL,
    PRIMARY KEY (ACCOUNT_ID, LIST, STATUS, REGION)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
