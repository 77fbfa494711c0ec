-- Events about orders, kept for projects to read (newest first, by project and optionally
-- by order: the two keys below serve exactly those lists). ACCOUNT_ID is the project;
-- AMOUNT is money moved in ten-thousandths, NULL when none.
CREATE TABLE DF_NOTIFICATION (
    ID          BIGINT        NOT NULL AUTO_INCREMENT,
    ACCOUNT_ID  VARCHAR(64)   NOT NULL COMMENT 'the project',
    REGION      VARCHAR(32)   NOT NULL,
    ORDER_ID    VARCHAR(64)   NOT NULL,
    KIND        VARCHAR(32)   NOT NULL COMMENT 'order_created, order_renewed, ...',
    AMOUNT      BIGINT        NULL,
    MESSAGE     VARCHAR(1024) NOT NULL,
    CREATE_TIME DATETIME(6)   NOT NULL,
    PRIMARY KEY (ID),
    KEY IDX_NOTIFICATION_ACCOUNT (ACCOUNT_ID, ID),
    KEY IDX_NOTIFICATION_ACCOUNT_ORDER (ACCOUNT_ID, ORDER_ID, ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
