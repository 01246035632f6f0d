from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from webchat.migrations import render_stored_bodies

class Migration(migrations.Migration):
    dependencies = [('models', '0002_announce_typing')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='html',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.RunPython(render_stored_bodies, ops.RunPython.noop),
    ]
