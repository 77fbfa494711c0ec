-- The webhook outbox: one row per notification and configured endpoint, written in the
-- notification's transaction, so a restart loses no delivery. A row is pending until it is
-- delivered or given up; the due index serves the delivery loop's read (pending, next
-- attempt passed).
CREATE TABLE DF_WEBHOOK_DELIVERY (
    ID              BIGINT        NOT NULL AUTO_INCREMENT,
    NOTIFICATION_ID BIGINT        NOT NULL,
    ENDPOINT        VARCHAR(255)  NOT NULL COMMENT 'the configured webhook name',
    ATTEMPTS        INT           NOT NULL DEFAULT 0 COMMENT 'failed deliveries so far',
    NEXT_ATTEMPT_AT DATETIME(6)   NOT NULL,
    DELIVERED_AT    DATETIME(6)   NULL,
    GAVE_UP_AT      DATETIME(6)   NULL COMMENT 'when the last attempt was due, once given up',
    LAST_ERROR      VARCHAR(1024) NULL,
    PRIMARY KEY (ID),
    KEY IDX_WEBHOOK_DELIVERY_DUE (DELIVERED_AT, GAVE_UP_AT, NEXT_ATTEMPT_AT),
    CONSTRAINT FK_WEBHOOK_DELIVERY_NOTIFICATION FOREIGN KEY (NOTIFICATION_ID)
        REFERENCES DF_NOTIFICATION (ID)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
