-- Orders. ACCOUNT_ID is the project. ACTIVE_RESOURCE_NAME equals RESOURCE_NAME until the
-- order ends and is NULL afterwards, so the unique key below lets only one not-ended order
-- of a project, region and plan type hold a name (NULLs never collide), race-free.
-- utf8mb4_bin: identifiers are case-sensitive in the service, so they must be here too.
CREATE TABLE DF_PURCHASE_ORDER (
    ID                   BIGINT       NOT NULL AUTO_INCREMENT,
    ORDER_ID             VARCHAR(64)  NOT NULL,
    ACCOUNT_ID           VARCHAR(64)  NOT NULL COMMENT 'the project',
    REGION               VARCHAR(32)  NOT NULL,
    PLAN_ID              VARCHAR(64)  NOT NULL,
    PLAN_TYPE            VARCHAR(16)  NOT NULL,
    QUANTITIES           INT          NOT NULL,
    START_TIME           DATETIME(6)  NOT NULL,
    END_TIME             DATETIME(6)  NULL COMMENT 'set once ended',
    DEADLINE_TIME        DATETIME(6)  NOT NULL COMMENT 'paid until (prepaid) or next settlement',
    LAST_CONSUME_ID      INT          NOT NULL DEFAULT 0 COMMENT 'sequence number of the latest consumption row',
    RENEW_RETRIES        INT          NOT NULL DEFAULT 0,
    STATUS               SMALLINT     NOT NULL COMMENT '0 pending, 5 consuming, 10 ending, 15 ended',
    CREATOR              VARCHAR(64)  NOT NULL,
    RESOURCE_NAME        VARCHAR(63)  NULL,
    ACTIVE_RESOURCE_NAME VARCHAR(63)  NULL COMMENT 'RESOURCE_NAME while not ended, else NULL',
    PRIMARY KEY (ID),
    UNIQUE KEY UK_PURCHASE_ORDER_ORDER_ID (ORDER_ID),
    UNIQUE KEY UK_PURCHASE_ORDER_ACTIVE_RESOURCE_NAME (ACCOUNT_ID, REGION, PLAN_TYPE, ACTIVE_RESOURCE_NAME),
    KEY IDX_PURCHASE_ORDER_ACCOUNT_STATUS (ACCOUNT_ID, STATUS, START_TIME),
    KEY IDX_PURCHASE_ORDER_ACCOUNT_REGION_STATUS (ACCOUNT_ID, REGION, STATUS, START_TIME),
    KEY IDX_PURCHASE_ORDER_STATUS_DEADLINE (STATUS, DEADLINE_TIME)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
