"""Full-text search over message bodies, built for the messages already there.

SQLite: an FTS5 table with the trigram tokenizer (it finds any substring of three or more
characters, so Thai and other scripts written without spaces are found as well as English). It
holds no copy of the text (`content='messages'`): triggers keep it in step with every insert,
edit, erasure and removal of a message, inside the writing transaction, so no code path can forget
it. PostgreSQL: a pg_trgm GIN index on the body, which serves ILIKE '%…%' for any script.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

SQLITE = [
    ("CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5("
     "body, content='messages', content_rowid='id', tokenize='trigram')"),
    # An external-content index must be told the old text to forget it: the triggers have it.
    ("CREATE TRIGGER IF NOT EXISTS message_fts_insert AFTER INSERT ON messages BEGIN "
     "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END"),
    ("CREATE TRIGGER IF NOT EXISTS message_fts_delete AFTER DELETE ON messages BEGIN "
     "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); END"),
    ("CREATE TRIGGER IF NOT EXISTS message_fts_update AFTER UPDATE OF body ON messages BEGIN "
     "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); "
     "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END"),
    # Index the messages written before this migration (erased ones have an empty body).
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS message_fts_insert",
    "DROP TRIGGER IF EXISTS message_fts_delete",
    "DROP TRIGGER IF EXISTS message_fts_update",
    "DROP TABLE IF EXISTS message_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS messages_body_trgm ON messages USING gin (body gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS messages_body_trgm"]


def _run(sqlite: list[str], postgres: list[str]):
    async def run(apps, schema_editor) -> None:
        client = schema_editor.client
        for sql in postgres if client.capabilities.dialect == "postgres" else sqlite:
            await client.execute_query(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [('models', '0005_integrations')]

    initial = False

    operations = [
        ops.RunPython(_run(SQLITE, POSTGRES), _run(SQLITE_DOWN, POSTGRES_DOWN)),
    ]
