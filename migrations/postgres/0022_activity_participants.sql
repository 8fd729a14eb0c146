-- The participants of each activity as rows (organisation, activity, contact), so that "the
-- activities a contact took part in" is one range of an index, for the activity list's
-- `participant_contact_id` filter and the timelines. The activity keeps its list
-- (`participant_contact_ids`, JSONB), which a read returns whole; this trigger derives the rows
-- from it in the transaction of every write that sets it, so the two cannot disagree.
-- Mirrors migrations/sqlite/0022_activity_participants.sql.

CREATE TABLE activity_participants (
    organization_id UUID NOT NULL,
    activity_id UUID NOT NULL,
    contact_id UUID NOT NULL,
    PRIMARY KEY (organization_id, activity_id, contact_id),
    FOREIGN KEY (organization_id, activity_id) REFERENCES activities (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id)
);
CREATE INDEX activity_participants_contact ON activity_participants (organization_id, contact_id, activity_id);

INSERT INTO activity_participants (organization_id, activity_id, contact_id)
SELECT DISTINCT a.organization_id, a.id, p.value::uuid
FROM activities AS a, jsonb_array_elements_text(a.participant_contact_ids) AS p (value);

CREATE FUNCTION activities_keep_participants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.participant_contact_ids IS NOT DISTINCT FROM OLD.participant_contact_ids THEN
            RETURN NULL;
        END IF;
        DELETE FROM activity_participants WHERE organization_id = NEW.organization_id AND activity_id = NEW.id;
    END IF;
    INSERT INTO activity_participants (organization_id, activity_id, contact_id)
    SELECT DISTINCT NEW.organization_id, NEW.id, p.value::uuid
    FROM jsonb_array_elements_text(NEW.participant_contact_ids) AS p (value)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER activities_participants
    AFTER INSERT OR UPDATE OF participant_contact_ids ON activities
    FOR EACH ROW EXECUTE FUNCTION activities_keep_participants();
