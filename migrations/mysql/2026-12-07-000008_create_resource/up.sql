-- Platform resources recorded by the embedded provisioning (no remote calls): one per order
-- whose plan type provides one. No reference to DF_PURCHASE_ORDER: a volume or service
-- instance is created before its order is written. ACTIVE_NAME is NAME until the resource
-- is released and NULL afterwards, so the unique key lets only one live resource of a
-- project, region and kind hold a name (NULLs never collide), race-free.
CREATE TABLE DF_RESOURCE (
    ORDER_ID    VARCHAR(64) NOT NULL,
    ACCOUNT_ID  VARCHAR(64) NOT NULL COMMENT 'the project (namespace)',
    REGION      VARCHAR(32) NOT NULL,
    KIND        VARCHAR(16) NOT NULL COMMENT 'volume, bsi, quota',
    NAME        VARCHAR(63) NULL,
    ACTIVE_NAME VARCHAR(63) NULL COMMENT 'NAME while not released, else NULL',
    CREATED_AT  DATETIME(6) NOT NULL,
    RELEASED_AT DATETIME(6) NULL,
    PRIMARY KEY (ORDER_ID),
    UNIQUE KEY UK_RESOURCE_ACTIVE_NAME (ACCOUNT_ID, REGION, KIND, ACTIVE_NAME)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
