-- The recharge record's time range; see migrations/mysql.
CREATE INDEX IDX_RECHARGE_ACCOUNT_TIME ON DF_RECHARGE (ACCOUNT_ID, CREATE_TIME);
