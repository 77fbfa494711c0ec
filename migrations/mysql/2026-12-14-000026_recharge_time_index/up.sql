-- The recharge record's time range (51idc's start_time/end_time) read over an index led
-- by the project, whatever the project's history.
ALTER TABLE DF_RECHARGE ADD KEY IDX_RECHARGE_ACCOUNT_TIME (ACCOUNT_ID, CREATE_TIME);
