-- From here on the store keeps tokens, codes and refresh tokens as SHA-256 digests (the columns
-- keep their names; rows stored before are rewritten by the store when this migration runs), so a
-- copy of the store holds nothing a client could present. An app token's nonce is what its
-- string is derived from with the app's secret, which the store does not hold.
ALTER TABLE tokens ADD COLUMN nonce TEXT;

-- A sign-in's consent ticket, single use: its digest, expiry and when it was spent.
CREATE TABLE consent_tickets (
    digest     TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Purging expired credentials runs on a schedule on every node: by index, not by scan.
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
CREATE INDEX consent_tickets_expiry ON consent_tickets (expires_at);
