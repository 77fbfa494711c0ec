-- Resource tasks; see migrations/mysql for the column meanings. No reference to
-- DF_PURCHASE_ORDER: a release may name an order that was never written.
CREATE TABLE DF_RESOURCE_TASK (
    ID              INTEGER   PRIMARY KEY AUTOINCREMENT,
    ORDER_ID        TEXT      NOT NULL,
    ACCOUNT_ID      TEXT      NOT NULL,
    REGION          TEXT      NOT NULL,
    PLAN_ID         TEXT      NOT NULL,
    PLAN_TYPE       TEXT      NOT NULL,
    KIND            TEXT      NOT NULL,
    RESOURCE_NAME   TEXT      NULL,
    CREATOR         TEXT      NOT NULL,
    ACTION          SMALLINT  NOT NULL,
    CREATED_AT      TIMESTAMP NOT NULL,
    ATTEMPTS        INTEGER   NOT NULL DEFAULT 0,
    NEXT_ATTEMPT_AT TIMESTAMP NOT NULL,
    DONE_AT         TIMESTAMP NULL,
    LAST_ERROR      TEXT      NULL
);
CREATE INDEX IDX_RESOURCE_TASK_DUE ON DF_RESOURCE_TASK (DONE_AT, NEXT_ATTEMPT_AT);
