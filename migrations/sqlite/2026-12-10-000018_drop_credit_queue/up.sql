-- Credits are payments now; see migrations/mysql: a deployment must drain its credit
-- queue before upgrading, or the credits still queued are lost here.
DROP TABLE DF_CREDIT_QUEUE;
