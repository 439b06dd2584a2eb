-- One database and one role per service: a service can neither read nor change another's tables.
-- Run by the postgres image on first start only (empty data directory). Passwords come from the
-- container's environment through psql's \getenv (psql 15+), so none is written here; a missing
-- variable leaves :'…' unexpanded and the script stops on the syntax error.

\getenv identity_password IDENTITY_DB_PASSWORD
\getenv members_password MEMBERS_DB_PASSWORD
\getenv notify_password NOTIFY_DB_PASSWORD

CREATE ROLE identity LOGIN PASSWORD :'identity_password';
CREATE DATABASE identity OWNER identity;

CREATE ROLE members LOGIN PASSWORD :'members_password';
CREATE DATABASE members OWNER members;

CREATE ROLE notify LOGIN PASSWORD :'notify_password';
CREATE DATABASE notify OWNER notify;

-- CONNECT is granted to PUBLIC by default; only each database's owner may connect
REVOKE ALL ON DATABASE identity FROM PUBLIC;
REVOKE ALL ON DATABASE members FROM PUBLIC;
REVOKE ALL ON DATABASE notify FROM PUBLIC;

-- meetings and content get the same three statements when they are implemented
