-- Webhook deliveries are claimed per endpoint, a few of each endpoint's oldest due rows
-- at a time (lockservice.webhooks_worker), so due rows are found by endpoint: a long
-- backlog of one endpoint is never scanned while looking for another's.
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE state = 'pending';
DROP INDEX webhook_deliveries_due;
