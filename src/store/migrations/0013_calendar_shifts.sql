-- A calendar rota's copy, expanded: who is on duty when over a window around the time it
-- was expanded, with what the expansion depended on besides the copy (the users, the
-- rota's zone, the expander's version). A run uses it while the copy, those and the window
-- still fit, instead of expanding the calendar again.
ALTER TABLE oncall_calendars ADD COLUMN shifts TEXT;
