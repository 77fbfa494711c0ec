-- Releases of platform resources that failed when their order ended, retried until the
-- platform answers, so no resource stays behind with no order paying for it. One entry per
-- order (the resource is found through the order's row, which the foreign key keeps).
-- ATTEMPTS counts failed retries; DONE_AT is set once released. The due index serves the
-- retry loop's read (not done, next attempt passed).
CREATE TABLE DF_RELEASE_QUEUE (
    ID              BIGINT        NOT NULL AUTO_INCREMENT,
    ORDER_ID        VARCHAR(64)   NOT NULL,
    CREATED_AT      DATETIME(6)   NOT NULL,
    ATTEMPTS        INT           NOT NULL DEFAULT 0 COMMENT 'failed retries so far',
    NEXT_ATTEMPT_AT DATETIME(6)   NOT NULL,
    DONE_AT         DATETIME(6)   NULL,
    LAST_ERROR      VARCHAR(1024) NULL,
    PRIMARY KEY (ID),
    UNIQUE KEY UK_RELEASE_QUEUE_ORDER_ID (ORDER_ID),
    KEY IDX_RELEASE_QUEUE_DUE (DONE_AT, NEXT_ATTEMPT_AT),
    CONSTRAINT FK_RELEASE_QUEUE_ORDER FOREIGN KEY (ORDER_ID)
        REFERENCES DF_PURCHASE_ORDER (ORDER_ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
