-- What became of an invitation's mail, which the background queue sends after
-- the console has answered: 'queued' until the transport answers, then 'sent'
-- or 'failed' (the console shows a failed one as such, with a button to send it
-- again). `attempt` counts the sends of the row, so that the outcome of an
-- older send that finishes late never overwrites a newer one's. Invitations
-- from before this column were sent as far as anyone knows.
ALTER TABLE invitations ADD COLUMN mail_state TEXT NOT NULL DEFAULT 'sent'
    CHECK (mail_state IN ('queued', 'sent', 'failed'));
ALTER TABLE invitations ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
