-- Credits are payments now: a refund kept by a charge service is a pending credit in
-- DF_PAYMENT, sent by the settler. The credits of the old queue are not moved: a deployment
-- must drain its credit queue (deliver every credit; `serviceusage deliver --once` of the
-- previous release until none is due) before upgrading, or the credits still queued are
-- lost here. Their rows were backfilled as settled local-ledger payments, which
-- `serviceusage reconcile` then reports against the ledger for an operator to correct.
DROP TABLE DF_CREDIT_QUEUE;
