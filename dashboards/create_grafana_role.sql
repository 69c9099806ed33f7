-- Read-only PostgreSQL role for Grafana's faultline-postgres datasource.
--
-- Run once per database as its owner (or a superuser), choosing the password:
--   psql "dbname=faultline" -v grafana_password=s3cret -f dashboards/create_grafana_role.sql
-- and give the same password to Grafana as FAULTLINE_PG_GRAFANA_PASSWORD.
--
-- The role can read the result tables the dashboards query and nothing else: no writes, no
-- agents or job specs, and every statement is cut off after 30 s so a wide dashboard time range
-- cannot load the controller's database. Re-running it is safe.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'faultline_grafana') THEN
    CREATE ROLE faultline_grafana LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END
$$;

ALTER ROLE faultline_grafana WITH PASSWORD :'grafana_password';
ALTER ROLE faultline_grafana SET default_transaction_read_only = on;
ALTER ROLE faultline_grafana SET statement_timeout = '30s';
ALTER ROLE faultline_grafana CONNECTION LIMIT 8;

GRANT CONNECT ON DATABASE :"DBNAME" TO faultline_grafana;
GRANT USAGE ON SCHEMA public TO faultline_grafana;
-- What the dashboards read. campaigns and jobs carry no secrets but are not needed; agents holds
-- registrations and lease ids live in jobs, so neither is granted.
GRANT SELECT ON runs, samples, run_summaries TO faultline_grafana;
