from tortoise import migrations
from tortoise.migrations import operations as ops

BATCH = 500


async def render_again(apps, schema_editor) -> None:
    """Bodies are Markdown now: every stored message's HTML is rendered again from its text."""
    from webchat.text import render_body

    client = schema_editor.client
    mark = (lambda n: f"${n}") if client.capabilities.dialect == "postgres" else (lambda n: "?")
    last = 0
    while True:
        rows = await client.execute_query_dict(
            f"SELECT id, body FROM messages WHERE id > {mark(1)} AND deleted = {mark(2)} "
            f"ORDER BY id LIMIT {BATCH}", [last, False])
        for row in rows:
            await client.execute_query(
                f"UPDATE messages SET html = {mark(1)} WHERE id = {mark(2)}",
                [str(render_body(row["body"])), row["id"]])
        if len(rows) < BATCH:
            return
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('models', '0003_message_html')]

    initial = False

    operations = [
        ops.RunPython(render_again, ops.RunPython.noop),
    ]
