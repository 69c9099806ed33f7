#include "controller/store/sql_dialect.h"
namespace faultline::controller {
const SqlDialect& PostgresDialect() { static const SqlDialect* const d = new SqlDialect{"PostgreSQL","BEGIN"," FOR UPDATE","SELECT nextval('campaign_numbers')","SELECT pg_advisory_xact_lock(4711)",true,{}}; return *d; }
}
