-- The participants of each activity as rows (organisation, activity, contact), so that "the
-- activities a contact took part in" is one range of an index, for the activity list's
-- `participant_contact_id` filter and the timelines. The activity keeps its list
-- (`participant_contact_ids`, JSON), which a read returns whole; these triggers derive the rows
-- from it in the transaction of every write that sets it, so the two cannot disagree. A
-- participant id is stored in the list as text and here as the 16 bytes sqlx binds a UUID as.
-- Mirrors migrations/postgres/0022_activity_participants.sql.

CREATE TABLE activity_participants (
    organization_id BLOB NOT NULL,
    activity_id BLOB NOT NULL,
    contact_id BLOB NOT NULL,
    PRIMARY KEY (organization_id, activity_id, contact_id),
    FOREIGN KEY (organization_id, activity_id) REFERENCES activities (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id)
) WITHOUT ROWID;
CREATE INDEX activity_participants_contact ON activity_participants (organization_id, contact_id, activity_id);

INSERT INTO activity_participants (organization_id, activity_id, contact_id)
SELECT DISTINCT a.organization_id, a.id, unhex(replace(p.value, '-', ''))
FROM activities AS a, json_each(a.participant_contact_ids) AS p;

CREATE TRIGGER activity_participants_insert AFTER INSERT ON activities BEGIN
    INSERT OR IGNORE INTO activity_participants (organization_id, activity_id, contact_id)
    SELECT NEW.organization_id, NEW.id, unhex(replace(p.value, '-', '')) FROM json_each(NEW.participant_contact_ids) AS p;
END;

CREATE TRIGGER activity_participants_update AFTER UPDATE OF participant_contact_ids ON activities
    WHEN NEW.participant_contact_ids IS NOT OLD.participant_contact_ids BEGIN
    DELETE FROM activity_participants WHERE organization_id = NEW.organization_id AND activity_id = NEW.id;
    INSERT OR IGNORE INTO activity_participants (organization_id, activity_id, contact_id)
    SELECT NEW.organization_id, NEW.id, unhex(replace(p.value, '-', '')) FROM json_each(NEW.participant_contact_ids) AS p;
END;
