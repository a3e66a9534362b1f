-- Venues and everything drawn or ruled on: categories, sections, rows, seats.
CREATE TABLE venues (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    content_hash  text NOT NULL,
    source_format text NOT NULL,
    width         double precision NOT NULL CHECK (width > 0),
    height        double precision NOT NULL CHECK (height > 0),
    focal_x       double precision NOT NULL,
    focal_y       double precision NOT NULL,
    areas         jsonb NOT NULL DEFAULT '[]',
    seat_count    integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    venue_id       bigint NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    category_index integer NOT NULL,
    external_id    text NOT NULL,
    name           text NOT NULL,
    color          text NOT NULL,
    price_cents    bigint NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (venue_id, category_index)
);

CREATE TABLE sections (
    venue_id      bigint NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    section_index integer NOT NULL,
    external_id   text NOT NULL,
    name          text NOT NULL,
    color         text NOT NULL,
    outline       jsonb NOT NULL,
    PRIMARY KEY (venue_id, section_index)
);

CREATE TABLE seat_rows (
    venue_id      bigint NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    row_index     integer NOT NULL,
    section_index integer NOT NULL,
    label         text NOT NULL,
    PRIMARY KEY (venue_id, row_index)
);

-- left_neighbour/right_neighbour: seat index along the row, -1 at a row end or aisle.
CREATE TABLE seats (
    venue_id        bigint NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    seat_index      integer NOT NULL,
    external_id     text NOT NULL,
    label           text NOT NULL,
    section_index   integer NOT NULL,
    row_index       integer NOT NULL,
    category_index  smallint NOT NULL,
    x               real NOT NULL,
    y               real NOT NULL,
    radius          real NOT NULL,
    accessible      boolean NOT NULL,
    seat_type       smallint NOT NULL,
    left_neighbour  integer NOT NULL,
    right_neighbour integer NOT NULL,
    PRIMARY KEY (venue_id, seat_index),
    UNIQUE (venue_id, external_id)
);
