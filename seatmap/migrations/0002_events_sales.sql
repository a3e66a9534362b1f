-- Events, and the durable record of what was sold: orders and one sale per seat.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    venue_id   bigint NOT NULL REFERENCES venues (id),
    title      text NOT NULL,
    starts_at  timestamptz,
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id              bigserial PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES events (id),
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL,
    buyer_id        text NOT NULL,
    fencing         bigint NOT NULL,
    total_cents     bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, idempotency_key)
);

-- The last line of defence against selling a seat twice: one row per (event, seat).
CREATE TABLE sales (
    event_id   bigint NOT NULL REFERENCES events (id),
    seat_index integer NOT NULL,
    order_id   bigint NOT NULL REFERENCES orders (id),
    fencing    bigint NOT NULL,
    sold_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, seat_index)
);
CREATE INDEX sales_order_id ON sales (order_id);

-- Seats an operator has taken off sale; restored to Redis by the reconciler.
CREATE TABLE blocked_seats (
    event_id   bigint NOT NULL REFERENCES events (id),
    seat_index integer NOT NULL,
    blocked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, seat_index)
);
