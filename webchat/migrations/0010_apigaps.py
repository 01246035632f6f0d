"""An index on outgoing_hooks(room_id): every new message reads its room's live outgoing webhooks
in the statement that numbers it (webchat.api.outgoing.live_hooks_sql), which then looks at that
room's hooks only, however many rooms have them. The same statement on both engines."""

from tortoise import migrations
from tortoise.migrations import operations as ops

UP = "CREATE INDEX IF NOT EXISTS outgoing_hooks_room ON outgoing_hooks (room_id)"
DOWN = "DROP INDEX IF EXISTS outgoing_hooks_room"


def _run(sql: str):
    async def run(apps, schema_editor) -> None:
        await schema_editor.client.execute_query(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [('models', '0009_files')]

    initial = False

    operations = [
        ops.RunPython(_run(UP), _run(DOWN)),
    ]
