"""The credentials the edge authenticates handsets against: a SQL view over
the store's `handset` table, read by Kamailio's auth_db with calculate_ha1=1.

A view (not a copy) means a handset added to the store can REGISTER at once:
auth_db queries the view on every challenge answer, with no reload.
The same statement works on SQLite and PostgreSQL; the lead adds it to an
Alembic migration when merging (CREATE_VIEW / DROP_VIEW).
"""

from __future__ import annotations

VIEW = "edge_credential"
USER_COLUMN = "username"
PASSWORD_COLUMN = "password"

CREATE_VIEW = f"CREATE VIEW {VIEW} ({USER_COLUMN}, {PASSWORD_COLUMN}) AS SELECT phone_id, sip_password FROM handset"
DROP_VIEW = f"DROP VIEW IF EXISTS {VIEW}"
