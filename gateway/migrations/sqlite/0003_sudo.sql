-- Settings and admin pages need a fresh re-authentication ("sudo") on top of the session.
ALTER TABLE sessions ADD COLUMN sudo_until INTEGER;
