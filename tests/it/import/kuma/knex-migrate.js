// Applies Uptime Kuma's own knex migrations to a SQLite file, as server/database.js does.
const knex = require("knex")({ client: "sqlite3", connection: { filename: process.argv[2] }, useNullAsDefault: true });
(async () => {
    await knex.raw("PRAGMA foreign_keys = OFF");
    const [batch, log] = await knex.migrate.latest({ directory: process.argv[3] });
    console.log("batch", batch, "applied", log.length);
    await knex.destroy();
})().catch(e => { console.error(e); process.exit(1); });
