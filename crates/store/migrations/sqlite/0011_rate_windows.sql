-- Rate limits (issue 18): the counter of each (limit, app, endpoint, window), shared by every
-- node of the store so a limit holds for the cluster; purged once `expires_at` is past. The
-- limits themselves are one JSON value in `meta` under `rate_limits`.
CREATE TABLE rate_windows (
    window_key TEXT PRIMARY KEY,
    hits       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rate_windows_expires_at ON rate_windows (expires_at);
