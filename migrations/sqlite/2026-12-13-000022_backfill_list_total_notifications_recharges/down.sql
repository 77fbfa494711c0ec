DELETE FROM DF_LIST_TOTAL WHERE LIST IN ('notifications', 'recharges');
