-- Outside systems that read our data over the FHIR API (I6, I7): clients
-- registered by an administrator, and the short-lived bearer tokens they
-- get at the token endpoint (OAuth 2.0 client credentials). Only SHA-256
-- hashes of the (random, 256-bit) secrets and tokens are stored.
CREATE TABLE api_clients (
    client_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,
    -- Space-separated granted scopes: system/<Resource>.read, system/*.read.
    scopes          TEXT NOT NULL,
    -- masked | full: how much of a person's identity the client sees.
    identity        TEXT NOT NULL,
    -- Comma-separated addresses and CIDR prefixes it may call from (* any).
    allow_from      TEXT NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_by      TEXT
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES api_clients(client_id),
    scopes     TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX api_tokens_client ON api_tokens(client_id, expires_at);
