// Migrations: the store's schema as numbered, append-only steps.
//
// ApplyMigrations() creates `schema_migrations` if needed and applies, in
// order, every step whose number is not recorded there, each in its own
// transaction together with its record, so a crash leaves the schema at a
// step boundary. Steps are written once in a dialect-neutral subset of SQL;
// the few differences (e.g. BIGINT vs INTEGER affinity) are spelled so both
// SQLite and PostgreSQL accept them.
//
// Thread-safety: call once at start-up, before the store is used. Two
// processes migrating the same database at once are serialised by the
// database's transaction locking; a step applied by the other is skipped.
#ifndef MAST_STORE_MIGRATIONS_H_
#define MAST_STORE_MIGRATIONS_H_

#include "store/sql_database.h"

namespace mast {

// Applies the pending migrations. Returns the schema version now in force.
// Errors: the failing step's number and the engine's message; a database
// whose schema is newer than this binary knows is kFailedPrecondition.
StatusOr<int> ApplyMigrations(SqlDatabase* db);

// The newest schema version this binary knows.
int LatestSchemaVersion();

}  // namespace mast

#endif  // MAST_STORE_MIGRATIONS_H_
