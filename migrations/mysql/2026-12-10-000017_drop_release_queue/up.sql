-- Releases are resource tasks now (the previous migration moved the ones still owed).
DROP TABLE DF_RELEASE_QUEUE;
