-- Signed webhooks: endpoints operators register, and a durable outbox of deliveries.
-- A sale's deliveries are inserted in the sale's own transaction; those of seat changes
-- made in Redis (release, expiry, block, unblock) are inserted while a per-event cursor
-- over the change log advances in the same transaction. So none is lost or doubled.

-- One receiver: for one event, or for every event (event_id NULL).
CREATE TABLE webhook_endpoints (
    id         bigserial PRIMARY KEY,
    url        text NOT NULL,
    kinds      text[] NOT NULL,
    event_id   bigint REFERENCES events (id) ON DELETE CASCADE,
    -- "whsec_" + base64 of the HMAC key; needed to sign, so it is kept as given out.
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_event_id ON webhook_endpoints (event_id);

-- One message to one endpoint. `message_id` is the webhook-id header: the same on every
-- attempt, and unique per endpoint, so no message is queued twice. `body` is the exact
-- text that is signed and sent. `attempts` counts attempts started (claimed).
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id      text NOT NULL,
    kind            text NOT NULL,
    event_id        bigint NOT NULL,
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';

-- Every attempt of a delivery: its HTTP status, or why there was none.
CREATE TABLE webhook_attempts (
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    status_code integer,
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);

-- How far each event's change log has been turned into deliveries: the Stream's
-- generation token and the last entry id read (seatmap.livekeys).
CREATE TABLE webhook_feed_cursors (
    event_id   bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    generation text NOT NULL,
    last_id    text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
