-- Resource tasks: the outbox of platform work (ACTION 0 release a volume or instance, 1 set
-- a project's quota in a region to what its open quota order provides), queued in the
-- transaction of the change that causes it and run, at least once, by the task runner,
-- which re-checks the store before acting. The resource is described in full (project,
-- region, plan, KIND 'volume', 'bsi' or 'quota', name, creator), because a release may
-- name an order that was never written (a creation whose outcome is unknown): hence no
-- reference to DF_PURCHASE_ORDER. ATTEMPTS counts the runs claimed; a task not yet run
-- (ATTEMPTS 0, DONE_AT NULL) may be cancelled. The due index serves the runner's read.
CREATE TABLE DF_RESOURCE_TASK (
    ID              BIGINT        NOT NULL AUTO_INCREMENT,
    ORDER_ID        VARCHAR(64)   NOT NULL,
    ACCOUNT_ID      VARCHAR(64)   NOT NULL COMMENT 'the project',
    REGION          VARCHAR(32)   NOT NULL,
    PLAN_ID         VARCHAR(64)   NOT NULL,
    PLAN_TYPE       VARCHAR(16)   NOT NULL,
    KIND            VARCHAR(16)   NOT NULL COMMENT 'volume, bsi, quota',
    RESOURCE_NAME   VARCHAR(63)   NULL,
    CREATOR         VARCHAR(64)   NOT NULL,
    ACTION          SMALLINT      NOT NULL COMMENT '0 release, 1 sync quota',
    CREATED_AT      DATETIME(6)   NOT NULL,
    ATTEMPTS        INT           NOT NULL DEFAULT 0 COMMENT 'runs claimed so far',
    NEXT_ATTEMPT_AT DATETIME(6)   NOT NULL,
    DONE_AT         DATETIME(6)   NULL COMMENT 'done, or cancelled before it ran',
    LAST_ERROR      VARCHAR(1024) NULL,
    PRIMARY KEY (ID),
    KEY IDX_RESOURCE_TASK_DUE (DONE_AT, NEXT_ATTEMPT_AT)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
