#!/bin/sh
# One database and one role per service: a service cannot read another's tables.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
CREATE ROLE identity LOGIN PASSWORD '${IDENTITY_DB_PASSWORD}';
CREATE DATABASE identity OWNER identity;
CREATE ROLE members LOGIN PASSWORD '${MEMBERS_DB_PASSWORD}';
CREATE DATABASE members OWNER members;
CREATE ROLE notify LOGIN PASSWORD '${NOTIFY_DB_PASSWORD}';
CREATE DATABASE notify OWNER notify;
REVOKE ALL ON DATABASE identity FROM PUBLIC;
REVOKE ALL ON DATABASE members FROM PUBLIC;
REVOKE ALL ON DATABASE notify FROM PUBLIC;
SQL
