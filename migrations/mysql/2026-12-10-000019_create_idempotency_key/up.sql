-- Idempotency keys: each money-moving request sent with an Idempotency-Key is recorded here
-- in the transaction of the change it causes, so a change and its key are both there or
-- both not. (ACCOUNT_ID, IDEM_KEY) is unique: a second request under a project's key is
-- refused and answered with the first one's answer. FINGERPRINT tells another request under
-- the same key apart; RESULT names what the request produced (`order:{id}`,
-- `recharge:{id}`); STATUS and BODY keep the answer given, once known. CREATED_AT is
-- indexed for forgetting old keys.
CREATE TABLE DF_IDEMPOTENCY_KEY (
    ACCOUNT_ID  VARCHAR(64)  NOT NULL COMMENT 'the project',
    IDEM_KEY    VARCHAR(255) NOT NULL,
    FINGERPRINT VARCHAR(128) NOT NULL,
    RESULT      VARCHAR(128) NOT NULL,
    CREATED_AT  DATETIME(6)  NOT NULL,
    STATUS      SMALLINT     NULL COMMENT 'HTTP status of the answer given',
    BODY        MEDIUMTEXT   NULL COMMENT 'body of the answer given',
    PRIMARY KEY (ACCOUNT_ID, IDEM_KEY),
    KEY IDX_IDEMPOTENCY_KEY_CREATED (CREATED_AT)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
