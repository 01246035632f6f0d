"""Migrations, and what several of them share."""

BATCH = 500


async def render_stored_bodies(apps, schema_editor) -> None:
    """Render every stored message's HTML again from its text (webchat.text), in batches: for
    migrations that change how bodies are rendered, so no page shows an older rendering."""
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
