-- Wrong second-factor codes accumulate per user across logins; past the limit the
-- user's second factor is locked until the mailbox (unlock link) or an admin clears it.
ALTER TABLE users ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN factor_locked_at INTEGER;

-- Break-glass: the password was right; the code that must follow (mailed, or
-- NULL when the owner's authenticator app is asked) for this one session.
CREATE TABLE break_glass_codes (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    session_hash  TEXT    NOT NULL,
    code_hash     TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER NOT NULL
);
