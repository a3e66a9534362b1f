-- Fencing epochs: every rebuild of an event's live state in Redis (new event, or Redis
-- lost its data) takes the next value, and that state's fencing numbers start at
-- epoch * 1e9. A sequence never hands a value out twice, even across crashes, so
-- fencing numbers never repeat however often Redis is lost.
CREATE SEQUENCE fencing_epochs;
