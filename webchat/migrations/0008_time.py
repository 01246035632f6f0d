from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def zones_already_chosen(apps, schema_editor) -> None:
    # Until now the profile's time zone was "UTC" unless its owner chose another: a zone other
    # than UTC was a choice, and is kept as one.
    await schema_editor.client.execute_query("UPDATE users SET time_zone_set = TRUE WHERE time_zone <> 'UTC'")


class Migration(migrations.Migration):
    dependencies = [('models', '0007_administration')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='clock',
            field=fields.CharField(default='auto', db_default='auto', max_length=4),
        ),
        ops.AddField(
            model_name='User',
            name='time_zone_set',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(zones_already_chosen, ops.RunPython.noop),
    ]
