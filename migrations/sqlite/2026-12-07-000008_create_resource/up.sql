-- Resources recorded by the embedded provisioning; see migrations/mysql for the column
-- meanings. The unique index on ACTIVE_NAME is the race-free duplicate-name guard.
CREATE TABLE DF_RESOURCE (
    ORDER_ID    TEXT      NOT NULL PRIMARY KEY,
    ACCOUNT_ID  TEXT      NOT NULL,
    REGION      TEXT      NOT NULL,
    KIND        TEXT      NOT NULL,
    NAME        TEXT      NULL,
    ACTIVE_NAME TEXT      NULL,
    CREATED_AT  TIMESTAMP NOT NULL,
    RELEASED_AT TIMESTAMP NULL
);
CREATE UNIQUE INDEX UK_RESOURCE_ACTIVE_NAME ON DF_RESOURCE (ACCOUNT_ID, REGION, KIND, ACTIVE_NAME);
