-- Idempotency that survives a crash. Until now a keyed request's claim, its write and the
-- keeping of its response committed separately: killed between the write and the response, a
-- retry answered 409 for five minutes and then ran the request again (a duplicate).
-- * Each claim is one attempt (`attempt_id`) by one server process (`instance_id`). Every
--   process keeps a heartbeat row in `server_instances`; a claim left unfinished by a process
--   whose heartbeat has stopped is taken over by the next retry, within seconds.
-- * The write's audit events carry the attempt (`audit_events.idempotency_attempt`), and the
--   trigger below marks the claim committed in the same transaction, so that what a committed
--   attempt wrote can be found again (and answered) after a crash.
-- * The trigger is also the fence: an attempt whose claim was taken over cannot commit a write.
--   Its UPDATE locks the claim's row until the write commits, so a takeover or a release that
--   runs meanwhile waits and then sees `committed_at`.
-- Mirrors migrations/sqlite/0018_idempotency_outcomes.sql.

CREATE TABLE server_instances (
    id UUID NOT NULL PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE idempotency_keys ADD COLUMN attempt_id UUID;
ALTER TABLE idempotency_keys ADD COLUMN instance_id UUID;
ALTER TABLE idempotency_keys ADD COLUMN committed_at TIMESTAMPTZ;
CREATE UNIQUE INDEX idempotency_keys_attempt ON idempotency_keys (attempt_id);

ALTER TABLE audit_events ADD COLUMN idempotency_attempt UUID;
CREATE INDEX audit_events_idempotency_attempt ON audit_events (organization_id, idempotency_attempt)
    WHERE idempotency_attempt IS NOT NULL;

CREATE FUNCTION audit_events_idempotency_fence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE idempotency_keys SET committed_at = COALESCE(committed_at, NEW.occurred_at)
    WHERE attempt_id = NEW.idempotency_attempt AND response_status IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency claim was taken over';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_events_idempotency_fence
BEFORE INSERT ON audit_events
FOR EACH ROW WHEN (NEW.idempotency_attempt IS NOT NULL)
EXECUTE FUNCTION audit_events_idempotency_fence();
